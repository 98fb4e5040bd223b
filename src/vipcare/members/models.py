from django.db import models
from django.utils.translation import gettext_lazy as _

from vipcare.core.fields import EncryptedDateField, EncryptedTextField
from vipcare.members.choices import BirthdayCalendar, ExtraFieldType, Gender, MemberSource, MemberStatus

# The soft archive (软件档案): what staff learn about a member by serving them.
SOFT_ARCHIVE_FIELDS = [
    "occupation",
    "work_situation",
    "family_situation",
    "personality",
    "consumption_habits",
    "style_preferences",
    "hobbies",
    "lifestyle",
    "service_preference",
    "promotion_receptiveness",
    "values",
    "income_band",
    "education",
    "residential_area",
]


class Member(models.Model):
    """One person in the mall's single member archive (会员档案).

    Phone, email, address, ID number and birthday are encrypted at rest; `phone_index` and
    `birthday_key` are keyed hashes that let us find members without decrypting everyone.
    """

    card_no = models.CharField(_("card number"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=50, db_index=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, default=Gender.UNKNOWN)
    ethnicity = models.CharField(_("ethnicity"), max_length=20, blank=True)
    birthday = EncryptedDateField(_("birthday"), blank=True, null=True)
    birthday_calendar = models.CharField(
        _("birthday celebrated by"), max_length=5, choices=BirthdayCalendar.choices, default=BirthdayCalendar.SOLAR
    )
    # Keyed hash of the month and day the member celebrates ("S-03-08" or lunar "L-08-15").
    birthday_key = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone = EncryptedTextField(_("phone"), blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    email = EncryptedTextField(_("email"), blank=True)
    address = EncryptedTextField(_("address"), blank=True)
    id_number = EncryptedTextField(_("ID number"), blank=True)
    id_number_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)

    # Hard archive: sizes (穿衣尺码)
    size_top = models.CharField(_("top size"), max_length=10, blank=True)
    size_bottom = models.CharField(_("bottom size"), max_length=10, blank=True)
    size_shoe = models.CharField(_("shoe size"), max_length=10, blank=True)

    # Soft archive (软件档案)
    occupation = models.CharField(_("occupation"), max_length=100, blank=True)
    work_situation = models.CharField(_("work situation"), max_length=200, blank=True)
    family_situation = models.CharField(_("family situation"), max_length=200, blank=True)
    personality = models.CharField(_("personality"), max_length=200, blank=True)
    consumption_habits = models.CharField(_("consumption habits"), max_length=200, blank=True)
    style_preferences = models.CharField(_("dress-style preferences"), max_length=200, blank=True)
    hobbies = models.CharField(_("hobbies"), max_length=200, blank=True)
    lifestyle = models.CharField(_("lifestyle"), max_length=200, blank=True)
    service_preference = models.CharField(_("preferred way of being served"), max_length=200, blank=True)
    promotion_receptiveness = models.CharField(_("receptiveness to promotions"), max_length=200, blank=True)
    values = models.CharField(_("values"), max_length=200, blank=True)
    income_band = models.CharField(_("income band"), max_length=50, blank=True)
    education = models.CharField(_("education"), max_length=50, blank=True)
    residential_area = models.CharField(_("residential area"), max_length=100, blank=True)
    # Deployment-defined fields (see MemberFieldDefinition), by key.
    extra = models.JSONField(_("extra fields"), default=dict, blank=True)

    # Consent per channel (PIPL): marketing goes only where the member said yes.
    consent_sms = models.BooleanField(_("consents to SMS"), default=False)
    consent_phone = models.BooleanField(_("consents to phone calls"), default=False)
    consent_wechat = models.BooleanField(_("consents to WeChat messages"), default=False)
    consent_email = models.BooleanField(_("consents to email"), default=False)
    consent_updated_at = models.DateTimeField(_("consent updated at"), null=True, blank=True)

    home_store = models.ForeignKey(
        "org.Store", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("home store")
    )
    registered_by = models.ForeignKey(
        "org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="registered_members",
        verbose_name=_("registered by"),
    )
    account_manager = models.ForeignKey(
        "org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="managed_members",
        verbose_name=_("account manager"),
    )
    enrolled_at = models.DateTimeField(_("enrolled at"), db_index=True)
    source = models.CharField(_("source"), max_length=10, choices=MemberSource.choices, default=MemberSource.STAFF)
    status = models.CharField(_("status"), max_length=10, choices=MemberStatus.choices, default=MemberStatus.ACTIVE)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("merged into")
    )

    # Profile completeness (档案完整度), 0–100, recomputed by the member services on every change.
    completeness_quantity = models.PositiveSmallIntegerField(_("completeness (quantity)"), default=0)
    completeness_quality = models.PositiveSmallIntegerField(_("completeness (quality)"), default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["-enrolled_at", "-id"]
        indexes = [
            models.Index(fields=["home_store", "status"]),
            models.Index(fields=["account_manager", "status"]),
            models.Index(fields=["registered_by", "completeness_quality"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.card_no})"

    def consents_to(self, channel: str) -> bool:
        return bool(getattr(self, f"consent_{channel}", False))


class MemberFieldDefinition(models.Model):
    """A field a deployment adds to the archive (e.g. 'favourite tea', 'car brand')."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    label = models.CharField(_("label"), max_length=100)
    field_type = models.CharField(_("type"), max_length=10, choices=ExtraFieldType.choices, default=ExtraFieldType.TEXT)
    choices = models.TextField(_("choices (one per line)"), blank=True)
    counts_for_completeness = models.BooleanField(_("counts for completeness"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("extra member field")
        verbose_name_plural = _("extra member fields")
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.label

    def choice_list(self) -> list[str]:
        return [c.strip() for c in self.choices.splitlines() if c.strip()]
