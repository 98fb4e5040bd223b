"""The quote: what the till shows before the member pays; changes nothing."""

import dataclasses
import datetime
from decimal import Decimal

from django.utils import timezone

from vipcare.core.memo import memo_scope
from vipcare.loyalty import selectors as loyalty_selectors
from vipcare.loyalty.models import PointsPolicy, Tier
from vipcare.members.models import Member
from vipcare.offers.models import Coupon, MemberDay
from vipcare.offers.pricing import Price
from vipcare.till.services.shared import (
    TillLine,
    TillRefused,
    check_active,
    check_lines,
    points_to_earn,
    price_for,
    scanned_coupons,
    spendable_points,
    split_tenders,
)
from vipcare.wallet.models import WalletAccount


@dataclasses.dataclass
class Quote:
    """What the till shows before the member pays: the price, the tenders, what will be earned."""

    member: Member
    tier: Tier | None
    price: Price
    coupons: list[Coupon]
    birthday_percent: Decimal
    member_day: MemberDay | None
    points: int
    points_fen: int
    stored_value_fen: int
    other_fen: int
    points_to_earn: int
    points_balance: int
    stored_value_principal_fen: int
    stored_value_bonus_fen: int
    points_policy: PointsPolicy

    @property
    def stored_value_balance_fen(self) -> int:
        return self.stored_value_principal_fen + self.stored_value_bonus_fen

    @property
    def can_pay_points(self) -> int:
        """The most points this sale can take: the balance, at most the total, in whole steps."""
        step = self.points_policy.redeem_step
        most = min(self.points_balance, self.price.total_fen * self.points_policy.redeem_points_per_yuan // 100)
        return most // step * step

    @property
    def can_pay_stored_value_fen(self) -> int:
        return min(self.stored_value_balance_fen, self.price.total_fen)


def _check_balances(quote: Quote) -> None:
    if quote.points > quote.points_balance:
        raise TillRefused(409, "insufficient_points", f"not enough points: {quote.points_balance} available, "
                                                      f"{quote.points} asked", "points")
    if quote.stored_value_fen > quote.stored_value_balance_fen:
        raise TillRefused(409, "insufficient_balance", f"not enough stored value: {quote.stored_value_balance_fen} "
                                                       f"fen available", "stored_value_fen")


@memo_scope()
def till_quote(*, member: Member, lines: list[TillLine], coupon_codes: list[str] = (), points: int = 0,
               stored_value_fen: int = 0, at: datetime.datetime | None = None) -> Quote:
    """Price a basket for a member without changing anything; refuses what the checkout would."""
    at = at or timezone.now()
    check_active(member)
    check_lines(lines)
    coupons = scanned_coupons(member, coupon_codes, at, lock=False)
    tier, price, birthday, member_day = price_for(member, lines, coupons, at)
    policy = loyalty_selectors.points_policy()
    points_fen, other = split_tenders(price.total_fen, points, stored_value_fen, policy)
    wallet = WalletAccount.objects.filter(member=member).values("principal_fen", "bonus_fen").first() or \
        {"principal_fen": 0, "bonus_fen": 0}
    earned = points_to_earn(tier, [str(i) for i in range(len(lines))], lines, price.lines, points_fen, at)
    quote = Quote(member=member, tier=tier, price=price, coupons=coupons, birthday_percent=birthday,
                  member_day=member_day, points=points, points_fen=points_fen, stored_value_fen=stored_value_fen,
                  other_fen=other, points_to_earn=earned.total, points_balance=spendable_points(member, at),
                  stored_value_principal_fen=wallet["principal_fen"], stored_value_bonus_fen=wallet["bonus_fen"],
                  points_policy=policy)
    _check_balances(quote)
    return quote
