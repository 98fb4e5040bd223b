"""Reads of offers: the policy, what a member holds, and which benefits apply on a day."""

import datetime
from decimal import Decimal

from django.db.models import Count, Q
from django.utils import timezone

from vipcare.loyalty.configuration import shared
from vipcare.loyalty.models import Tier
from vipcare.members.models import Member
from vipcare.offers import occasions
from vipcare.offers.choices import CouponStatus
from vipcare.offers.models import Coupon, CouponRule, CouponTemplate, MemberDay, OffersPolicy
from vipcare.offers.pricing import CouponOffer


@shared
def offers_policy() -> OffersPolicy:
    return OffersPolicy.objects.get_or_create(pk=1)[0]


@shared
def active_member_days() -> list[MemberDay]:
    return list(MemberDay.objects.filter(is_active=True).select_related("min_tier"))


def member_days_on(day: datetime.date, tier: Tier | None = None) -> list[MemberDay]:
    """The active member days falling on `day` that the member's level qualifies for."""
    days = [d for d in active_member_days() if d.falls_on(day)]
    rank = tier.rank if tier is not None else 0
    return [d for d in days if d.min_tier is None or rank >= d.min_tier.rank]


def member_day_percent(day: datetime.date, tier: Tier | None) -> tuple[Decimal, MemberDay | None]:
    days = member_days_on(day, tier)
    best = max(days, key=lambda d: d.discount_percent, default=None)
    return (best.discount_percent, best) if best is not None else (Decimal(0), None)


def birthday_percent(member: Member, tier: Tier | None, day: datetime.date,
                     policy: OffersPolicy | None = None) -> Decimal:
    """The extra birthday discount if `day` is in the member's birthday window, else 0."""
    policy = policy or offers_policy()
    percent = tier.birthday_discount_percent if tier is not None else policy.birthday_default_percent
    if not percent:
        return Decimal(0)
    if not occasions.member_in_birthday_window(member.birthday_key, day, policy.birthday_window):
        return Decimal(0)
    return percent


def coupon_offer(coupon: Coupon) -> CouponOffer:
    t = coupon.template
    return CouponOffer(code=coupon.code, template_id=t.pk, kind=t.kind, amount_fen=t.amount_fen, percent=t.percent,
                       cap_fen=t.cap_fen, min_spend_fen=t.min_spend_fen, stacking=t.stacking, priority=t.priority,
                       gift=t.gift)


def member_coupons(member: Member):
    """All of a member's coupons, live ones first, each with its template."""
    return Coupon.objects.filter(member=member).select_related("template").order_by(
        "status", "valid_until", "pk")


def live_coupons(member: Member, at: datetime.datetime | None = None):
    """Coupons the member can use now, soonest to lapse first."""
    at = at or timezone.now()
    return Coupon.objects.filter(member=member, status=CouponStatus.ISSUED, valid_from__lte=at,
                                 valid_until__gt=at).select_related("template").order_by("valid_until", "pk")


def coupon_counts(member: Member, at: datetime.datetime | None = None) -> dict[str, int]:
    at = at or timezone.now()
    live = Q(status=CouponStatus.ISSUED, valid_until__gt=at)
    return Coupon.objects.filter(member=member).aggregate(
        live=Count("pk", filter=live), redeemed=Count("pk", filter=Q(status=CouponStatus.REDEEMED)),
        expired=Count("pk", filter=Q(status=CouponStatus.ISSUED, valid_until__lte=at)))


def templates_issuable():
    return CouponTemplate.objects.filter(is_active=True).order_by("priority", "code")


def template_summaries():
    """Every template with how many coupons are out, used and lapsed (the Programme page)."""
    now = timezone.now()
    return CouponTemplate.objects.annotate(
        issued=Count("coupons"),
        live=Count("coupons", filter=Q(coupons__status=CouponStatus.ISSUED, coupons__valid_until__gt=now)),
        redeemed=Count("coupons", filter=Q(coupons__status=CouponStatus.REDEEMED)),
    ).order_by("priority", "code")


def active_rules():
    return CouponRule.objects.filter(is_active=True).select_related("template", "tier").order_by("trigger", "name")
