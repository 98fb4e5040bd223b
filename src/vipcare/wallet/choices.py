from django.db import models
from django.utils.translation import gettext_lazy as _


class WalletEntryKind(models.TextChoices):
    TOP_UP = "top_up", _("Top-up")
    OPENING = "opening", _("Opening balance carried over")
    PAY = "pay", _("Payment")
    REFUND_TO_BALANCE = "refund_to_balance", _("Payment refunded to the card")
    REFUND_PRINCIPAL_CASHOUT = "cash_out", _("Unused principal paid out")
    HOLD = "hold", _("Held")
    CAPTURE = "capture", _("Hold captured")
    RELEASE = "release", _("Hold released")
    MERGE_OUT = "merge_out", _("Moved to merged member")
    MERGE_IN = "merge_in", _("Moved from merged member")


class WalletHoldStatus(models.TextChoices):
    HELD = "held", _("Held")
    CAPTURED = "captured", _("Captured")
    RELEASED = "released", _("Released")
