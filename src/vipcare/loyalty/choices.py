from django.db import models
from django.utils.translation import gettext_lazy as _


class TierWindow(models.TextChoices):
    CALENDAR_QUARTER = "quarter", _("Calendar quarter")
    ROLLING_DAYS = "rolling", _("Rolling number of days")


class TierBasis(models.TextChoices):
    SPEND = "spend", _("Spend")
    POINTS = "points", _("Points earned")


class DowngradeMode(models.TextChoices):
    NONE = "none", _("Never downgrade")
    ONE_STEP = "one_step", _("One level down per review")
    TO_SUPPORTED = "to_supported", _("To the level the window supports")


class TierChangeReason(models.TextChoices):
    SALE = "sale", _("Qualifying purchase")
    REFUND = "refund", _("Qualifying purchase refunded")
    REVIEW_UP = "review_up", _("Review: upgraded")
    REVIEW_DOWN = "review_down", _("Review: downgraded")
    MANUAL = "manual", _("Set by staff")
    MERGE = "merge", _("Members merged")


class ExpiryMode(models.TextChoices):
    ROLLING_MONTHS = "rolling", _("Each lot after N months")
    YEAR_END = "year_end", _("At the end of the calendar year")
    NONE = "none", _("Never")


class PointsEntryKind(models.TextChoices):
    EARN = "earn", _("Earned")
    MATURE = "mature", _("Became available")
    SPEND = "spend", _("Spent")
    EXPIRE = "expire", _("Expired")
    ADJUST = "adjust", _("Adjusted by staff")
    OPENING = "opening", _("Opening balance carried over")
    REFUND_REVERSAL = "refund_reversal", _("Taken back for a refund")
    PAYMENT_REFUND = "payment_refund", _("Payment given back for a refund")
    HOLD = "hold", _("Held")
    RELEASE = "release", _("Hold released")
    CAPTURE = "capture", _("Hold captured")
    MERGE_OUT = "merge_out", _("Moved to merged member")
    MERGE_IN = "merge_in", _("Moved from merged member")


class HoldStatus(models.TextChoices):
    HELD = "held", _("Held")
    CAPTURED = "captured", _("Captured")
    RELEASED = "released", _("Released")
