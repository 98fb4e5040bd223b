from django.db import models
from django.utils.translation import gettext_lazy as _


class SaleSource(models.TextChoices):
    POS = "pos", _("POS")
    IMPORT = "import", _("Import")
    STAFF = "staff", _("Entered by staff")
    DEMO = "demo", _("Demo data")


class ImportKind(models.TextChoices):
    MEMBERS = "members", _("Members")
    SALES = "sales", _("Sales")
    OPENING = "opening", _("Opening balances")


class ImportStatus(models.TextChoices):
    COMMITTED = "committed", _("Committed")
    REJECTED = "rejected", _("Rejected (nothing written)")
