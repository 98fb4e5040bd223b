from django.db import models
from django.utils.translation import gettext_lazy as _


class RewardKind(models.TextChoices):
    GIFT = "gift", _("Gift from stock")
    COUPON = "coupon", _("Coupon")


class RedemptionStatus(models.TextChoices):
    REDEEMED = "redeemed", _("Waiting to be handed over")
    HANDED_OVER = "handed_over", _("Handed over")
    CANCELLED = "cancelled", _("Cancelled")


# Audit log actions of the staff's manual steps (core.AuditLogEntry.action is a free 32-character code).
AUDIT_REDEEM = "reward_redeem"
AUDIT_HAND_OVER = "reward_hand_over"
AUDIT_CANCEL = "reward_cancel"
