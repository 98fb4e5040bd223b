"""The price at the till — a pure function, so the quote and the checkout agree and tests can prove
the rules without a database. Amounts are integer fen.

Order of application (each step works on what the steps before it left, line by line):

1. the lines as the till rings them up (unit price × quantity − the till's own line discount);
2. the member's level discount (会员折扣), e.g. 5% for gold;
3. the birthday extra discount, when the member shops in the birthday window;
4. the member-day extra discount, on a member day;
5. coupons, in order of their template's priority (lower first; the order they were scanned
   breaks ties). An amount-off coupon takes its amount, a percent-off coupon its percentage of
   what is left, at most its cap; a gift coupon takes nothing off and lists its gift. A coupon
   whose minimum spend the sale no longer reaches at its turn is refused, not skipped.

Percent steps round each line's discount down to the fen (the member never pays less than the
percentages say); a coupon's amount is spread over the lines in proportion to what each still
costs (largest remainders), so a partial refund gives back what that line really cost.

Stacking: an exclusive coupon must be the only coupon on the sale; at most one coupon of a
template per sale. Breaking either rule is refused with the coupon named.
"""

import dataclasses
from decimal import ROUND_FLOOR, Decimal

from vipcare.offers.choices import CouponKind, Stacking

ZERO = Decimal(0)


class OfferRefused(Exception):
    """An offer cannot be used as asked. `code` says why (coupon_expired, coupon_used, …) and
    `field` names the coupon as the request does (coupons[1])."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code, self.field, self.message = code, field, message


@dataclasses.dataclass(frozen=True)
class CouponOffer:
    """What the pricing needs to know about a scanned coupon."""

    code: str
    template_id: int
    kind: str
    amount_fen: int = 0
    percent: Decimal = ZERO
    cap_fen: int | None = None
    min_spend_fen: int = 0
    stacking: str = Stacking.COMBINABLE
    priority: int = 100
    gift: str = ""


@dataclasses.dataclass(frozen=True)
class Step:
    kind: str  # "level", "birthday", "member_day" or "coupon"
    discount_fen: int
    per_line: tuple[int, ...]
    percent: Decimal = ZERO
    coupon: str = ""  # the coupon code, for coupon steps
    gift: str = ""


@dataclasses.dataclass(frozen=True)
class Price:
    gross_fen: int  # what the lines cost before the programme's discounts
    lines: tuple[int, ...]  # what each line costs after them
    steps: tuple[Step, ...]

    @property
    def total_fen(self) -> int:
        return sum(self.lines)

    def discount(self, kind: str) -> int:
        return sum(step.discount_fen for step in self.steps if step.kind == kind)

    def line_discounts(self) -> tuple[int, ...]:
        """The programme's discount on each line, all steps together."""
        return tuple(sum(step.per_line[i] for step in self.steps) for i in range(len(self.lines)))


def percent_of(amount_fen: int, percent: Decimal) -> int:
    """`percent`% of an amount, rounded down to the fen."""
    return int((Decimal(amount_fen) * Decimal(percent) / 100).to_integral_value(rounding=ROUND_FLOOR))


def allocate(total: int, weights: list[int] | tuple[int, ...]) -> list[int]:
    """Split `total` (at most sum(weights)) over the weights in proportion, each share at most its
    weight: shares rounded down, the fen left over go to the largest remainders (first wins ties)."""
    whole = sum(weights)
    if total < 0 or total > whole:
        raise ValueError("cannot allocate more than the weights hold")
    if total == 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    left = total - sum(shares)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in by_remainder[:left]:
        shares[i] += 1
    return shares


def coupon_order(coupons: list[CouponOffer]) -> list[tuple[int, CouponOffer]]:
    """(index as scanned, coupon) in the order they apply: priority, then scan order."""
    return sorted(enumerate(coupons), key=lambda pair: (pair[1].priority, pair[0]))


def check_stacking(coupons: list[CouponOffer]) -> None:
    seen: dict[int, int] = {}
    for i, coupon in enumerate(coupons):
        if coupon.template_id in seen:
            raise OfferRefused("coupon_not_combinable", f"coupons[{i}]",
                                 f"only one coupon of this kind per sale (coupons[{seen[coupon.template_id]}] is one)")
        seen[coupon.template_id] = i
        if coupon.stacking == Stacking.EXCLUSIVE and len(coupons) > 1:
            raise OfferRefused("coupon_not_combinable", f"coupons[{i}]",
                                 "this coupon cannot be combined with other coupons")


def _percent_step(kind: str, lines: list[int], percent: Decimal) -> Step | None:
    if not percent or percent <= 0:
        return None
    per_line = tuple(percent_of(amount, percent) for amount in lines)
    return Step(kind=kind, discount_fen=sum(per_line), per_line=per_line, percent=Decimal(percent))


def _coupon_step(index: int, coupon: CouponOffer, lines: list[int]) -> Step:
    running = sum(lines)
    if running < coupon.min_spend_fen:
        raise OfferRefused("coupon_min_spend", f"coupons[{index}]",
                             f"needs a spend of at least {coupon.min_spend_fen} fen; the sale comes to {running} "
                             f"fen at this coupon's turn")
    if coupon.kind == CouponKind.AMOUNT_OFF:
        discount = min(coupon.amount_fen, running)
    elif coupon.kind == CouponKind.PERCENT_OFF:
        discount = percent_of(running, coupon.percent)
        if coupon.cap_fen is not None:
            discount = min(discount, coupon.cap_fen)
    else:
        discount = 0
    per_line = tuple(allocate(discount, lines))
    return Step(kind="coupon", discount_fen=discount, per_line=per_line, percent=coupon.percent,
                coupon=coupon.code, gift=coupon.gift if coupon.kind == CouponKind.GIFT else "")


def price(lines: list[int], *, level_percent: Decimal = ZERO, birthday_percent: Decimal = ZERO,
          member_day_percent: Decimal = ZERO, coupons: list[CouponOffer] = ()) -> Price:
    """The price of lines (each the amount the till rang up, in fen) for a member, in the order above."""
    if any(amount < 0 for amount in lines):
        raise ValueError("a line cannot cost less than nothing")
    coupons = list(coupons)
    check_stacking(coupons)
    running = list(lines)
    steps: list[Step] = []

    def apply(step: Step | None) -> None:
        if step is None:
            return
        for i, off in enumerate(step.per_line):
            running[i] -= off
        steps.append(step)

    apply(_percent_step("level", running, level_percent))
    apply(_percent_step("birthday", running, birthday_percent))
    apply(_percent_step("member_day", running, member_day_percent))
    for index, coupon in coupon_order(coupons):
        apply(_coupon_step(index, coupon, running))
    return Price(gross_fen=sum(lines), lines=tuple(running), steps=tuple(steps))
