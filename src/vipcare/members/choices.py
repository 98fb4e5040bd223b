from django.db import models
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")
    UNKNOWN = "U", _("Unknown")


class BirthdayCalendar(models.TextChoices):
    SOLAR = "solar", _("Solar (Gregorian)")
    LUNAR = "lunar", _("Lunar (农历)")


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    MERGED = "merged", _("Merged into another member")


class MemberSource(models.TextChoices):
    STAFF = "staff", _("Registered by staff")
    POS = "pos", _("Enrolled at the till")
    IMPORT = "import", _("Imported")
    DEMO = "demo", _("Demo data")


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone call")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("Email")


class ExtraFieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
