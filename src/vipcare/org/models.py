import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from vipcare.org.choices import ALL_STORE_ROLES, PERSONAL_DATA_ROLES, OrganisationKind, Role, StoreCategory


class Organisation(models.Model):
    """The mall, department store or chain that runs the VIP programme: one member archive."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=OrganisationKind.choices, default=OrganisationKind.MALL)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Store(models.Model):
    """A tenant store of a mall, or a branch of a chain."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="stores")
    code = models.CharField(_("store code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    brand = models.CharField(_("brand"), max_length=100, blank=True)
    category = models.CharField(
        _("category"), max_length=20, choices=StoreCategory.choices, default=StoreCategory.OTHER
    )
    floor = models.CharField(_("floor"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}"


class Staff(models.Model):
    """A person who works with members: their login, role and the stores they cover."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="staff")
    staff_no = models.CharField(_("staff number"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=50)
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    stores = models.ManyToManyField(Store, blank=True, related_name="staff", verbose_name=_("stores"))
    is_active = models.BooleanField(_("active"), default=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["staff_no"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"

    @property
    def sees_all_stores(self) -> bool:
        return self.role in ALL_STORE_ROLES

    @property
    def may_reveal_personal_data(self) -> bool:
        return self.role in PERSONAL_DATA_ROLES


class ApiKey(models.Model):
    """A POS terminal's key: it acts for one store and can make POS calls only.

    Only a SHA-256 of the key is stored; the key itself is shown once when it is issued.
    """

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="api_keys")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("POS API key")
        verbose_name_plural = _("POS API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()
