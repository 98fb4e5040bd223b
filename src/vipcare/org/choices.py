from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    MALL = "mall", _("Shopping mall with tenant stores")
    CHAIN = "chain", _("Retail chain with branches")
    DEPARTMENT_STORE = "department_store", _("Department store")


class StoreCategory(models.TextChoices):
    FASHION = "fashion", _("Fashion")
    COSMETICS = "cosmetics", _("Cosmetics")
    JEWELLERY = "jewellery", _("Jewellery")
    DINING = "dining", _("Dining")
    KIDS = "kids", _("Kids")
    SPORTS = "sports", _("Sports")
    HOME = "home", _("Home")
    OTHER = "other", _("Other")


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    OPERATIONS_MANAGER = "operations_manager", _("Member operations manager")
    STORE_MANAGER = "store_manager", _("Store manager")
    ACCOUNT_MANAGER = "account_manager", _("Account manager / shopping guide")
    CASHIER = "cashier", _("Cashier")


# Roles that see every store of the organisation.
ALL_STORE_ROLES = {Role.ADMIN, Role.OPERATIONS_MANAGER}
# Roles that may reveal a member's personal data in full (each reveal is audited).
PERSONAL_DATA_ROLES = {Role.ADMIN, Role.OPERATIONS_MANAGER, Role.ACCOUNT_MANAGER}
