"""Reads of levels and points: configuration, a member's level and progress, points and lots."""

import dataclasses
import datetime

from django.db.models import F, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from vipcare.core import ledgers
from vipcare.loyalty import earning, tiers
from vipcare.loyalty.choices import HoldStatus, TierBasis
from vipcare.loyalty.configuration import shared
from vipcare.loyalty.models import (
    EarnMultiplier,
    PointsAccount,
    PointsCampaign,
    PointsHold,
    PointsLot,
    PointsPolicy,
    Tier,
    TierPolicy,
)
from vipcare.members.models import Member


@shared
def tier_policy() -> TierPolicy:
    return TierPolicy.objects.get_or_create(pk=1)[0]


@shared
def points_policy() -> PointsPolicy:
    return PointsPolicy.objects.get_or_create(pk=1)[0]


@shared
def tier_ladder(policy: TierPolicy | None = None) -> tuple[list[tiers.Rung], dict[int, Tier]]:
    """The active levels as rule rungs (threshold by the policy's basis), and the rows by id."""
    policy = policy or tier_policy()
    rows = {t.pk: t for t in Tier.objects.filter(is_active=True)}
    by_points = policy.basis == TierBasis.POINTS
    ladder = [
        tiers.Rung(id=t.pk, rank=t.rank, threshold=t.threshold_points if by_points else t.threshold_fen,
                   single_purchase_fen=None if by_points else t.single_purchase_fen)
        for t in rows.values()
    ]
    return ladder, rows


def member_tier(member: Member) -> Tier | None:
    found = ledgers.fetch(_MEMBER_TIER, [member.pk])  # plain SQL (core.ledgers): every quote and checkout asks
    if not found or found[0][0] is None:
        return None
    rows = tier_ladder()[1]
    return rows[found[0][0]] if found[0][0] in rows else Tier.objects.get(pk=found[0][0])  # an inactive level


_MEMBER_TIER = "SELECT tier_id FROM loyalty_membertier WHERE member_id = %s"


def window_figures(member_id: int, policy: TierPolicy, start: datetime.datetime, end: datetime.datetime
                   ) -> tuple[int, int | None]:
    """(value, largest single purchase) of a member in [start, end): spend in fen net of what was
    refunded of those sales (whenever refunded), or points earned net of points reversed."""
    if policy.basis == TierBasis.POINTS:
        total = PointsLot.objects.filter(account__member_id=member_id, earned_at__gte=start, earned_at__lt=end,
                                         sale__isnull=False).aggregate(v=Sum(F("points") - F("reversed_points")))
        return total["v"] or 0, None
    # plain SQL (core.ledgers): every checkout reads the window to decide the level
    nets = [net for (net,) in ledgers.fetch(_WINDOW_NETS, [member_id, ledgers.db_datetime(start),
                                                            ledgers.db_datetime(end)])]
    return sum(nets), max(nets, default=None)


# Each sale's total less what was refunded of it (whenever refunded).
_WINDOW_NETS = ("SELECT s.total_fen - COALESCE((SELECT SUM(r.amount_fen) FROM sales_refund r "
                "WHERE r.sale_id = s.id), 0) FROM sales_sale s "
                "WHERE s.member_id = %s AND s.sold_at >= %s AND s.sold_at < %s")


@dataclasses.dataclass(frozen=True)
class TierProgress:
    tier: Tier | None
    next_tier: Tier | None
    window_value: int
    gap: int
    by_points: bool

    @property
    def message(self) -> str:
        if self.next_tier is None:
            return _("Top level reached")
        if self.by_points:
            return _("%(gap)s more points to %(tier)s") % {"gap": f"{self.gap:,}", "tier": self.next_tier.name}
        return _("¥%(gap)s more to %(tier)s") % {"gap": f"{self.gap / 100:,.0f}", "tier": self.next_tier.name}


def tier_progress(member: Member, *, at: datetime.datetime | None = None) -> TierProgress:
    """Where the member stands in the current window, e.g. "¥1,200 more to gold"."""
    at = at or timezone.now()
    policy = tier_policy()
    ladder, rows = tier_ladder(policy)
    current = member_tier(member)
    start, end = tiers.current_window(policy.window, policy.rolling_days, at, timezone.get_current_timezone())
    value, _largest = window_figures(member.pk, policy, start, end)
    rung = next((r for r in ladder if current and r.id == current.pk), None)
    result = tiers.progress(ladder, rung, value)
    return TierProgress(tier=current, next_tier=rows[result.next.id] if result.next else None, window_value=value,
                        gap=result.gap, by_points=policy.basis == TierBasis.POINTS)


@shared
def earn_rules(sold_on: datetime.date) -> tuple[list[earning.Multiplier], list[earning.Campaign]]:
    multipliers = [earning.Multiplier(m.multiplier, m.brand, m.category)
                   for m in EarnMultiplier.objects.filter(is_active=True)]
    campaigns = [earning.Campaign(c.multiplier, c.brand, c.category, starts_on=c.starts_on, ends_on=c.ends_on)
                 for c in PointsCampaign.objects.filter(is_active=True, starts_on__lte=sold_on, ends_on__gte=sold_on)]
    return multipliers, campaigns


def points_preview(*, member: Member | None, lines: list[earning.EarnLine], sold_at: datetime.datetime | None = None
                   ) -> earning.EarnResult:
    """What a sale with these lines would earn the member now (the till's quote)."""
    sold_at = sold_at or timezone.now()
    sold_on = timezone.localdate(sold_at)
    policy = points_policy()
    multipliers, campaigns = earn_rules(sold_on)
    tier = member_tier(member) if member is not None else None
    return earning.points_for_sale(
        lines=lines, sold_on=sold_on, points_per_yuan=policy.points_per_yuan, multipliers=multipliers,
        campaigns=campaigns, level_multiplier=tier.points_multiplier if tier else earning.ONE,
    )


def points_account(member: Member) -> PointsAccount | None:
    return PointsAccount.objects.filter(member=member).first()


def points_lots(member: Member):
    """The member's lots with points left, soonest to lapse first (the order they are spent in)."""
    return PointsLot.objects.filter(account__member=member, remaining__gt=0).order_by(
        F("expires_at").asc(nulls_last=True), "earned_at", "id")


def points_expiring(*, as_of: datetime.datetime, within_days: int) -> list[dict]:
    """Members whose points lapse within the days after `as_of`, for the reminder: member id,
    points and the first date they lapse."""
    until = as_of + datetime.timedelta(days=within_days)
    return list(
        PointsLot.objects.filter(remaining__gt=0, expires_at__gt=as_of, expires_at__lte=until)
        .values(member_id=F("account__member_id"))
        .annotate(points=Sum("remaining"), first_expiry=Min("expires_at"))
        .order_by("member_id")
    )


def points_held(member: Member) -> int:
    return PointsHold.objects.filter(account__member=member, status=HoldStatus.HELD).aggregate(
        p=Sum("points", default=0))["p"]


def accounts_with_due_lots(as_of: datetime.datetime) -> list[int]:
    """Accounts with a lot to mature or to expire by `as_of` (the nightly job's work list)."""
    due = Q(remaining__gt=0, expires_at__lte=as_of) | Q(matured=False, available_at__lte=as_of)
    return list(PointsLot.objects.filter(due).values_list("account_id", flat=True).distinct().order_by("account_id"))


def points_refund_shortfalls():
    """Refund reversals that could not take back everything (the member had spent the points)."""
    from vipcare.loyalty.models import PointsEntry

    return PointsEntry.objects.filter(shortfall__gt=0).select_related("account__member", "refund").order_by(
        "-created_at")
