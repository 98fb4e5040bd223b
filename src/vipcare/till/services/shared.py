"""Pieces the quote and the checkout share: refusals, basket lines, coupons, the price, tenders, earning."""

import dataclasses
import datetime
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils import timezone

from vipcare.loyalty import earning
from vipcare.loyalty import selectors as loyalty_selectors
from vipcare.loyalty.models import PointsLot, PointsPolicy, Tier
from vipcare.members.choices import MemberStatus
from vipcare.members.models import Member
from vipcare.offers import pricing
from vipcare.offers import selectors as offers_selectors
from vipcare.offers.models import Coupon, MemberDay
from vipcare.offers.pricing import OfferRefused, Price
from vipcare.offers.services import coupons_for_checkout
from vipcare.sales.services import LineInput, _check_lines

# HTTP status of each offer refusal; the others are 422 (the request cannot be served as sent).
OFFER_STATUS = {"coupon_not_found": 404, "coupon_used": 409, "coupon_void": 409}


class TillRefused(Exception):
    """The till asked for something the programme refuses; nothing was changed.

    `status` is the HTTP status, `code` a stable machine-readable reason (docs/api.md), `field`
    the request field to blame (coupons[1], points, …) if one is."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field

    def body(self) -> dict:
        body = {"detail": f"{self.field}: {self.message}" if self.field else self.message, "code": self.code}
        if self.field:
            body["errors"] = {self.field: self.message}
        return body


def offer_refused(refused: OfferRefused) -> TillRefused:
    return TillRefused(OFFER_STATUS.get(refused.code, 422), refused.code, refused.message, refused.field)


@dataclasses.dataclass(frozen=True)
class TillLine:
    unit_price_fen: int
    quantity: int
    discount_fen: int = 0
    brand: str = ""
    sku: str = ""
    category: str = ""

    @property
    def amount_fen(self) -> int:
        return self.unit_price_fen * self.quantity - self.discount_fen


def check_active(member: Member) -> None:
    if member.status != MemberStatus.ACTIVE:
        raise TillRefused(422, "member_merged", "this card was merged into another member; use that member",
                          "member")


def check_lines(lines: list[TillLine]) -> None:
    _check_lines([LineInput(unit_price_fen=line.unit_price_fen, quantity=line.quantity,
                            discount_fen=line.discount_fen) for line in lines])


def scanned_coupons(member: Member, codes: list[str], at: datetime.datetime, *, lock: bool) -> list[Coupon]:
    try:
        return coupons_for_checkout(member=member, codes=list(codes), at=at, lock=lock)
    except OfferRefused as refused:
        raise offer_refused(refused) from None


def price_for(member: Member, lines: list[TillLine], coupons: list[Coupon], at: datetime.datetime
           ) -> tuple[Tier | None, Price, Decimal, MemberDay | None]:
    tier = loyalty_selectors.member_tier(member)
    day = timezone.localdate(at)
    birthday = offers_selectors.birthday_percent(member, tier, day)
    member_day_percent, member_day = offers_selectors.member_day_percent(day, tier)
    try:
        price = pricing.price([line.amount_fen for line in lines],
                              level_percent=tier.discount_percent if tier else Decimal(0), birthday_percent=birthday,
                              member_day_percent=member_day_percent,
                              coupons=[offers_selectors.coupon_offer(c) for c in coupons])
    except OfferRefused as refused:
        raise offer_refused(refused) from None
    return tier, price, birthday, member_day


def split_tenders(total_fen: int, points: int, stored_value_fen: int, policy: PointsPolicy) -> tuple[int, int]:
    """(points value in fen, other tender in fen) for a total paid partly with points and stored value."""
    if points < 0 or stored_value_fen < 0:
        raise TillRefused(422, "invalid", "must not be negative", "points" if points < 0 else "stored_value_fen")
    if points % policy.redeem_step:
        raise TillRefused(422, "points_not_whole", f"pay with a multiple of {policy.redeem_step} points "
                                                   f"({policy.redeem_points_per_yuan} points pay ¥1)", "points")
    points_fen = policy.redeem_value_fen(points)
    if points_fen + stored_value_fen > total_fen:
        raise TillRefused(422, "payment_exceeds_total",
                          f"points ({points_fen} fen) and stored value ({stored_value_fen} fen) come to more than "
                          f"the total of {total_fen} fen")
    return points_fen, total_fen - points_fen - stored_value_fen


def points_to_earn(member_tier: Tier | None, keys: list[str], lines: list[TillLine], final: tuple[int, ...],
          points_fen: int, at: datetime.datetime) -> earning.EarnResult:
    """Points the sale earns: on each line's final price less its share of the points payment
    (points do not earn points), under the rules of the day and the level held before the sale."""
    not_by_points = [amount - share for amount, share in zip(final, pricing.allocate(points_fen, final), strict=True)]
    sold_on = timezone.localdate(at)
    multipliers, campaigns = loyalty_selectors.earn_rules(sold_on)
    return earning.points_for_sale(
        lines=[earning.EarnLine(key=key, amount_fen=amount, brand=line.brand, category=line.category)
               for key, line, amount in zip(keys, lines, not_by_points, strict=True)],
        sold_on=sold_on, points_per_yuan=loyalty_selectors.points_policy().points_per_yuan, multipliers=multipliers,
        campaigns=campaigns, level_multiplier=member_tier.points_multiplier if member_tier else earning.ONE,
    )


def spendable_points(member: Member, at: datetime.datetime) -> int:
    """Points the member can spend at `at`: lots available by then and not lapsed (whether or not
    the account has been settled since)."""
    live = Q(expires_at__isnull=True) | Q(expires_at__gt=at)
    return PointsLot.objects.filter(live, Q(matured=True) | Q(available_at__lte=at), account__member=member,
                                    remaining__gt=0).aggregate(p=Sum("remaining", default=0))["p"]
