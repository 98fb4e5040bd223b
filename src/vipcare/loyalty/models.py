"""Levels (会员等级) and points (积分): configuration, the member's level, and the points ledger.

The points ledger is append-only: `PointsEntry` rows are never updated or deleted. The account's
`balance` and `pending` are caches of the sums of the entries' `delta` and `pending_delta`;
`PointsLot` rows say which earned points are still there (for expiry and FIFO burning).
"""

import math
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vipcare.loyalty.choices import (
    DowngradeMode,
    ExpiryMode,
    HoldStatus,
    PointsEntryKind,
    TierBasis,
    TierChangeReason,
    TierWindow,
)


def default_services() -> dict:
    return {"parking_hours": 0, "lounge": False, "priority_delivery": False}


class Tier(models.Model):
    """One rung of the card ladder (普通卡 / 银卡 / 金卡 / 钻石卡) with what it takes and what it gives."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=50)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True, help_text=_("Higher is better."))
    threshold_fen = models.BigIntegerField(_("spend in the window (fen)"), default=0)
    threshold_points = models.BigIntegerField(_("points earned in the window"), default=0)
    single_purchase_fen = models.BigIntegerField(
        _("single purchase that qualifies (fen)"), null=True, blank=True,
        help_text=_("A purchase of at least this amount earns the level at once; empty: not used."),
    )
    discount_percent = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2, default=Decimal(0))
    points_multiplier = models.DecimalField(_("points multiplier"), max_digits=5, decimal_places=2, default=Decimal(1))
    birthday_discount_percent = models.DecimalField(
        _("extra birthday discount (%)"), max_digits=5, decimal_places=2, default=Decimal(0)
    )
    services = models.JSONField(_("services"), default=default_services, blank=True,
                                help_text=_("parking_hours, lounge, priority_delivery, …"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("level")
        verbose_name_plural = _("levels")
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(condition=Q(threshold_fen__gte=0), name="tier_threshold_not_negative"),
            models.CheckConstraint(condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                                   name="tier_discount_is_a_percentage"),
            models.CheckConstraint(condition=Q(points_multiplier__gte=0), name="tier_multiplier_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class TierPolicy(models.Model):
    """How levels are earned and reviewed. One row (pk=1); see `selectors.tier_policy()`."""

    window = models.CharField(_("window"), max_length=10, choices=TierWindow.choices,
                              default=TierWindow.CALENDAR_QUARTER)
    rolling_days = models.PositiveIntegerField(_("rolling window (days)"), default=90)
    basis = models.CharField(_("qualify by"), max_length=10, choices=TierBasis.choices, default=TierBasis.SPEND)
    downgrade_mode = models.CharField(_("downgrade"), max_length=16, choices=DowngradeMode.choices,
                                      default=DowngradeMode.ONE_STEP)
    grace_days = models.PositiveIntegerField(_("grace period (days)"), default=30)

    class Meta:
        verbose_name = _("level policy")
        verbose_name_plural = _("level policy")

    def __str__(self) -> str:
        return f"{self.get_window_display()} / {self.get_basis_display()} / {self.get_downgrade_mode_display()}"


class MemberTier(models.Model):
    """The member's current level; `tier` empty means a points member without a card level."""

    member = models.OneToOneField("members.Member", on_delete=models.PROTECT, related_name="tier_state",
                                  verbose_name=_("member"))
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("level"))
    since = models.DateTimeField(_("since"))
    # Set by the first review that found the window below the level; the downgrade waits the grace days.
    below_since = models.DateTimeField(_("below the level since"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("last review"), null=True, blank=True)

    class Meta:
        verbose_name = _("member level")
        verbose_name_plural = _("member levels")

    def __str__(self) -> str:
        return f"{self.member_id}: {self.tier}"


class TierChange(models.Model):
    """Append-only history of a member's level, with the reason."""

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="tier_changes",
                               verbose_name=_("member"))
    from_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("from"))
    to_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("to"))
    reason = models.CharField(_("reason"), max_length=16, choices=TierChangeReason.choices)
    window_value = models.BigIntegerField(_("window spend (fen) or points"), default=0)
    sale = models.ForeignKey("sales.Sale", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.CharField(_("note"), max_length=200, blank=True)
    changed_at = models.DateTimeField(_("time"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        verbose_name = _("level change")
        verbose_name_plural = _("level changes")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["member", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.from_tier} → {self.to_tier} ({self.reason})"


# --- points configuration -------------------------------------------------------------------


class PointsPolicy(models.Model):
    """How points are earned and when they lapse. One row (pk=1); see `selectors.points_policy()`."""

    points_per_yuan = models.DecimalField(_("points per yuan"), max_digits=8, decimal_places=4, default=Decimal(1))
    expiry_mode = models.CharField(_("expiry"), max_length=10, choices=ExpiryMode.choices,
                                   default=ExpiryMode.ROLLING_MONTHS)
    expiry_months = models.PositiveSmallIntegerField(_("months until a lot lapses"), default=12)
    pending_days = models.PositiveSmallIntegerField(
        _("pending days"), default=0,
        help_text=_("Earned points become spendable after this many days (return window)."),
    )
    reminder_days = models.PositiveSmallIntegerField(_("remind this many days before points lapse"), default=30)
    redeem_points_per_yuan = models.PositiveIntegerField(
        _("points that pay ¥1 at the till"), default=100, validators=[MinValueValidator(1)],
        help_text=_("100: one point pays one fen. A payment must come to whole fen."),
    )

    class Meta:
        verbose_name = _("points policy")
        verbose_name_plural = _("points policy")

    def __str__(self) -> str:
        return f"{self.points_per_yuan}/¥, {self.get_expiry_mode_display()}"

    @property
    def redeem_step(self) -> int:
        """The smallest number of points that pays a whole number of fen (1 at 100 points per yuan)."""
        return self.redeem_points_per_yuan // math.gcd(self.redeem_points_per_yuan, 100)

    def redeem_value_fen(self, points: int) -> int:
        """What `points` pay at the till, in fen (rounded down; the till checks whole steps)."""
        return points * 100 // self.redeem_points_per_yuan


class EarnMultiplier(models.Model):
    """Higher earning for a brand and/or a category (e.g. cosmetics ×3). Blank matches anything."""

    name = models.CharField(_("name"), max_length=100)
    brand = models.CharField(_("brand"), max_length=100, blank=True)
    category = models.CharField(_("category"), max_length=50, blank=True)
    multiplier = models.DecimalField(_("multiplier"), max_digits=5, decimal_places=2)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("earning multiplier")
        verbose_name_plural = _("earning multipliers")
        constraints = [models.CheckConstraint(condition=Q(multiplier__gte=0), name="earn_multiplier_not_negative")]

    def __str__(self) -> str:
        return f"{self.name} ×{self.multiplier}"


class PointsCampaign(models.Model):
    """Date-range campaign (e.g. double points in the festival season), local dates inclusive."""

    name = models.CharField(_("name"), max_length=100)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to (inclusive)"))
    multiplier = models.DecimalField(_("multiplier"), max_digits=5, decimal_places=2, default=Decimal(2))
    brand = models.CharField(_("brand"), max_length=100, blank=True)
    category = models.CharField(_("category"), max_length=50, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("points campaign")
        verbose_name_plural = _("points campaigns")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="campaign_dates_in_order"),
            models.CheckConstraint(condition=Q(multiplier__gte=0), name="campaign_multiplier_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ×{self.multiplier}"


# --- the points ledger ------------------------------------------------------------------------


class PointsAccount(models.Model):
    """A member's points. `balance` is spendable now, `pending` is earned but inside the return window."""

    member = models.OneToOneField("members.Member", on_delete=models.PROTECT, related_name="points_account",
                                  verbose_name=_("member"))
    balance = models.BigIntegerField(_("points"), default=0)
    pending = models.BigIntegerField(_("pending points"), default=0)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="points_balance_not_negative"),
            models.CheckConstraint(condition=Q(pending__gte=0), name="points_pending_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.balance}"


class PointsLot(models.Model):
    """Points from one earn, with their own availability and expiry; `remaining` shrinks as they are used."""

    account = models.ForeignKey(PointsAccount, on_delete=models.PROTECT, related_name="lots")
    points = models.BigIntegerField(_("points earned"))
    remaining = models.BigIntegerField(_("points left"))
    earned_at = models.DateTimeField(_("earned at"))
    available_at = models.DateTimeField(_("available from"))
    matured = models.BooleanField(_("available"), default=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    sale = models.ForeignKey("sales.Sale", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # Points per sale line id, so a partial refund takes back what that line earned.
    line_points = models.JSONField(default=dict, blank=True)
    # Points a refund has claimed back from this earn, whether or not they were still there.
    reversed_points = models.BigIntegerField(_("points reversed"), default=0)

    class Meta:
        verbose_name = _("points lot")
        verbose_name_plural = _("points lots")
        indexes = [
            models.Index(fields=["account", "expires_at"]),
            models.Index(fields=["expires_at"], condition=Q(remaining__gt=0), name="points_lot_live_expiry"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(remaining__gte=0), name="points_lot_remaining_not_negative"),
            models.CheckConstraint(condition=Q(remaining__lte=models.F("points")),
                                   name="points_lot_remaining_le_points"),
        ]

    def __str__(self) -> str:
        return f"lot {self.pk}: {self.remaining}/{self.points}"


class PointsHold(models.Model):
    """Points set aside at the till until the payment is captured or released (or times out)."""

    account = models.ForeignKey(PointsAccount, on_delete=models.PROTECT, related_name="holds")
    points = models.BigIntegerField(_("points"))
    status = models.CharField(_("status"), max_length=10, choices=HoldStatus.choices, default=HoldStatus.HELD)
    expires_at = models.DateTimeField(_("expires at"))
    # [[lot id, points], …]: what the hold took from which lot, given back on release.
    allocations = models.JSONField(default=list)
    store = models.ForeignKey("org.Store", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField()
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [models.CheckConstraint(condition=Q(points__gt=0), name="points_hold_positive")]

    def __str__(self) -> str:
        return f"hold {self.pk}: {self.points} ({self.status})"


class PointsEntry(models.Model):
    """One change of a points account. Never updated or deleted."""

    account = models.ForeignKey(PointsAccount, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(_("kind"), max_length=16, choices=PointsEntryKind.choices)
    delta = models.BigIntegerField(_("change"))
    pending_delta = models.BigIntegerField(_("change of pending"), default=0)
    balance_after = models.BigIntegerField(_("points after"))
    pending_after = models.BigIntegerField(_("pending after"), default=0)
    lot = models.ForeignKey(PointsLot, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    hold = models.ForeignKey(PointsHold, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # [[lot id, points], …] burnt or restored by this entry.
    allocations = models.JSONField(default=list, blank=True)
    # Points a refund should have taken back but the member had already spent (never a negative balance).
    shortfall = models.BigIntegerField(_("shortfall"), default=0)
    sale = models.ForeignKey("sales.Sale", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    refund = models.ForeignKey("sales.Refund", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    store = models.ForeignKey("org.Store", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    idempotency_key = models.CharField(max_length=128)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "idempotency_key"], name="points_entry_key_once_per_account"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="points_entry_balance_after_not_negative"),
        ]
        indexes = [models.Index(fields=["account", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.delta:+d}"
