from django.db import models
from django.utils.translation import gettext_lazy as _


class RewardKind(models.TextChoices):
    GIFT = "gift", _("Gift from stock")
    COUPON = "coupon", _("Coupon")


class RedemptionStatus(models.TextChoices):
    REDEEMED = "redeemed", _("Waiting to be handed over")
    HANDED_OVER = "handed_over", _("Handed over")
    CANCELLED = "cancelled", _("Cancelled")
