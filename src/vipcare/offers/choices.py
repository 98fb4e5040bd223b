from django.db import models
from django.utils.translation import gettext_lazy as _


class CouponKind(models.TextChoices):
    AMOUNT_OFF = "amount_off", _("Amount off")
    PERCENT_OFF = "percent_off", _("Percent off (with a cap)")
    GIFT = "gift", _("Gift")


class Stacking(models.TextChoices):
    EXCLUSIVE = "exclusive", _("Exclusive: the only coupon on the sale")
    COMBINABLE = "combinable", _("Combinable with other combinable coupons")


class LimitPeriod(models.TextChoices):
    EVER = "ever", _("Ever")
    YEAR = "year", _("Per calendar year")
    MONTH = "month", _("Per calendar month")


class CouponStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    REDEEMED = "redeemed", _("Redeemed")
    VOID = "void", _("Void")


class CouponSource(models.TextChoices):
    MANUAL = "manual", _("Issued by staff")
    RULE = "rule", _("Issued by a rule")
    BULK = "bulk", _("Issued in bulk")
    REISSUE = "reissue", _("Reissued after a refund")
    REWARD = "reward", _("Redeemed for points")


class RuleTrigger(models.TextChoices):
    BIRTHDAY = "birthday", _("Birthday")
    MEMBER_DAY = "member_day", _("Member day")
    NEW_MEMBER = "new_member", _("New member")
    LEVEL_UP = "level_up", _("Level up")


class BirthdayWindow(models.TextChoices):
    DAY = "day", _("On the birthday")
    WEEK = "week", _("In the birthday's week (Monday to Sunday)")
    MONTH = "month", _("In the birthday's month")
