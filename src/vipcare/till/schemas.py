"""Request and response shapes of the till endpoints (/api/pos/till). Amounts are integer fen."""

import datetime

from ninja import Field, Schema

from vipcare.offers.models import Coupon
from vipcare.sales.schemas import MAX_FEN, MAX_LINES, MemberOut, RefundOut, SaleLineIn, SaleOut, member_body
from vipcare.till.models import Checkout, CheckoutRefund, TillHold
from vipcare.till.services import Quote, TillLine

MAX_COUPONS = 10
MAX_POINTS = 10**12


class TillErrorOut(Schema):
    detail: str
    code: str = Field(..., description="a stable reason the till can act on (docs/api.md)")
    errors: dict[str, str] | None = None


class BasketIn(Schema):
    member: str = Field(..., min_length=1, max_length=200, description="card number, phone or QR payload")
    lines: list[SaleLineIn] = Field(..., min_length=1, max_length=MAX_LINES)
    coupons: list[str] = Field([], max_length=MAX_COUPONS, description="coupon codes as scanned")
    points: int = Field(0, ge=0, le=MAX_POINTS, description="points to pay with")
    stored_value_fen: int = Field(0, ge=0, le=MAX_FEN, description="stored value to pay with")

    def till_lines(self) -> list[TillLine]:
        return [TillLine(**line.model_dump()) for line in self.lines]


class QuoteIn(BasketIn):
    pass


class CheckoutIn(BasketIn):
    hold_id: int | None = Field(None, description="pay with this hold's points and stored value (captures it)")
    expected_total_fen: int | None = Field(None, ge=0, le=MAX_FEN,
                                           description="refuse (409 price_changed) if the total is not this")
    store_code: str | None = Field(None, max_length=32, description="defaults to the API key's store")
    receipt_no: str | None = Field(None, max_length=64, description="generated from the idempotency key if absent")
    sold_at: datetime.datetime | None = Field(None, description="defaults to now; without an offset, local time")
    staff_no: str | None = Field(None, max_length=32)


class HoldIn(Schema):
    member: str = Field(..., min_length=1, max_length=200)
    points: int = Field(0, ge=0, le=MAX_POINTS)
    stored_value_fen: int = Field(0, ge=0, le=MAX_FEN)
    expires_in_seconds: int = Field(300, ge=10, le=3600, description="released after this if not captured")


class LevelOut(Schema):
    code: str
    name: str
    discount_percent: str


class LevelChangeOut(Schema):
    from_level: str | None = Field(..., alias="from")
    to_level: str | None = Field(..., alias="to")


class PriceLineOut(Schema):
    index: int
    amount_fen: int = Field(..., description="as rung up: unit price × quantity − the till's discount")
    discount_fen: int = Field(..., description="the programme's discounts on this line")
    pay_fen: int


class CouponUseOut(Schema):
    code: str
    name: str
    discount_fen: int
    gift: str


class CouponOut(Schema):
    code: str
    name: str
    benefit: str
    valid_until: datetime.datetime


class DiscountsOut(Schema):
    level_fen: int
    birthday_fen: int
    member_day_fen: int
    coupons_fen: int


class PayOut(Schema):
    points: int
    points_fen: int
    stored_value_fen: int
    other_fen: int = Field(..., description="left to pay in cash or by card")


class PointsOut(Schema):
    balance: int
    points_per_yuan: int = Field(..., description="points that pay ¥1")
    can_pay_points: int
    can_pay_fen: int


class StoredValueOut(Schema):
    balance_fen: int
    principal_fen: int
    bonus_fen: int
    can_pay_fen: int


class QuoteOut(Schema):
    member: MemberOut
    level: LevelOut | None
    birthday: bool = Field(..., description="the birthday benefit applies")
    member_day: str | None
    gross_fen: int
    discounts: DiscountsOut
    total_fen: int
    lines: list[PriceLineOut]
    coupons: list[CouponUseOut]
    available_coupons: list[CouponOut] = Field(..., description="the member's other live coupons")
    pay: PayOut
    points_to_earn: int
    points: PointsOut
    stored_value: StoredValueOut


class CheckoutOut(Schema):
    id: int
    sale: SaleOut
    level: LevelOut | None = Field(..., description="the level the sale was priced at")
    gross_fen: int
    discounts: DiscountsOut
    total_fen: int
    coupons: list[CouponUseOut]
    pay: PayOut
    stored_value_principal_fen: int
    stored_value_bonus_fen: int
    points_earned: int
    level_change: LevelChangeOut | None
    coupons_issued: list[CouponOut] = Field(..., description="level-up coupons the sale earned")
    points_balance: int
    stored_value_balance_fen: int


class HoldOut(Schema):
    id: int
    member: MemberOut
    points: int
    points_fen: int
    stored_value_fen: int
    status: str
    expires_at: datetime.datetime


class CheckoutRefundOut(Schema):
    refund: RefundOut
    checkout_id: int
    points_returned: int
    points_returned_fen: int
    stored_value_returned_fen: int
    other_returned_fen: int = Field(..., description="to give back in cash or to the card")
    points_reversed: int = Field(..., description="points the refunded part had earned, taken back")
    points_shortfall: int = Field(..., description="of those, already spent: not taken (never a negative balance)")
    level_change: LevelChangeOut | None
    coupons_reissued: list[CouponOut]


# Builders of JSON-ready bodies: the idempotency record stores exactly what the client got.

def level_body(tier) -> dict | None:
    if tier is None:
        return None
    return {"code": tier.code, "name": tier.name, "discount_percent": f"{tier.discount_percent.normalize():f}"}


def change_body(change) -> dict | None:
    if change is None:
        return None
    return {"from": change.from_tier.code if change.from_tier else None,
            "to": change.to_tier.code if change.to_tier else None}


def coupon_body(coupon: Coupon) -> dict:
    return {"code": coupon.code, "name": coupon.template.name, "benefit": coupon.template.describe(),
            "valid_until": coupon.valid_until.isoformat()}


def coupon_uses(price, coupons: list[Coupon]) -> list[dict]:
    names = {c.code: c.template.name for c in coupons}
    return [{"code": s.coupon, "name": names.get(s.coupon, ""), "discount_fen": s.discount_fen, "gift": s.gift}
            for s in price.steps if s.kind == "coupon"]


def _discounts(level: int, birthday: int, member_day: int, coupons: int) -> dict:
    return {"level_fen": level, "birthday_fen": birthday, "member_day_fen": member_day, "coupons_fen": coupons}


def quote_body(quote: Quote, lines: list[TillLine], available: list[Coupon]) -> dict:
    price, policy = quote.price, quote.points_policy
    used = {c.code for c in quote.coupons}
    return QuoteOut(
        member=member_body(quote.member), level=level_body(quote.tier), birthday=quote.birthday_percent > 0,
        member_day=quote.member_day.name if quote.member_day else None, gross_fen=price.gross_fen,
        discounts=_discounts(price.discount("level"), price.discount("birthday"), price.discount("member_day"),
                             price.discount("coupon")),
        total_fen=price.total_fen,
        lines=[{"index": i, "amount_fen": line.amount_fen, "discount_fen": off, "pay_fen": pay}
               for i, (line, off, pay) in enumerate(zip(lines, price.line_discounts(), price.lines, strict=True))],
        coupons=coupon_uses(price, quote.coupons),
        available_coupons=[coupon_body(c) for c in available if c.code not in used],
        pay={"points": quote.points, "points_fen": quote.points_fen, "stored_value_fen": quote.stored_value_fen,
             "other_fen": quote.other_fen},
        points_to_earn=quote.points_to_earn,
        points={"balance": quote.points_balance, "points_per_yuan": policy.redeem_points_per_yuan,
                "can_pay_points": quote.can_pay_points, "can_pay_fen": policy.redeem_value_fen(quote.can_pay_points)},
        stored_value={"balance_fen": quote.stored_value_balance_fen, "principal_fen": quote.stored_value_principal_fen,
                      "bonus_fen": quote.stored_value_bonus_fen, "can_pay_fen": quote.can_pay_stored_value_fen},
    ).model_dump(mode="json", by_alias=True)


def checkout_body(checkout: Checkout, *, sale: dict, coupons_used: list[dict], coupons_issued: list[Coupon],
                  points_balance: int, stored_value_balance_fen: int) -> dict:
    wallet = checkout.wallet_entry
    principal, bonus = (0, 0)
    if wallet is not None:
        principal, bonus = (-wallet.principal_delta, -wallet.bonus_delta) if wallet.kind == "pay" else \
            (checkout.hold.wallet_hold.principal_fen, checkout.hold.wallet_hold.bonus_fen)
    return CheckoutOut(
        id=checkout.pk, sale=sale, level=level_body(checkout.tier), gross_fen=checkout.gross_fen,
        discounts=_discounts(checkout.level_discount_fen, checkout.birthday_discount_fen,
                             checkout.member_day_discount_fen, checkout.coupon_discount_fen),
        total_fen=checkout.total_fen, coupons=coupons_used,
        pay={"points": checkout.points_paid, "points_fen": checkout.points_paid_fen,
             "stored_value_fen": checkout.stored_value_paid_fen, "other_fen": checkout.other_paid_fen},
        stored_value_principal_fen=principal, stored_value_bonus_fen=bonus, points_earned=checkout.points_earned,
        level_change=change_body(checkout.tier_change), coupons_issued=[coupon_body(c) for c in coupons_issued],
        points_balance=points_balance, stored_value_balance_fen=stored_value_balance_fen,
    ).model_dump(mode="json", by_alias=True)


def hold_body(hold: TillHold) -> dict:
    return HoldOut(id=hold.pk, member=member_body(hold.member), points=hold.points, points_fen=hold.points_fen,
                   stored_value_fen=hold.stored_value_fen, status=hold.status,
                   expires_at=hold.expires_at).model_dump(mode="json")


def checkout_refund_body(row: CheckoutRefund, *, refund: dict, coupons_reissued: list[Coupon]) -> dict:
    return CheckoutRefundOut(
        refund=refund, checkout_id=row.checkout_id, points_returned=row.points_returned,
        points_returned_fen=row.points_returned_fen, stored_value_returned_fen=row.stored_value_returned_fen,
        other_returned_fen=row.other_returned_fen, points_reversed=row.points_reversed,
        points_shortfall=row.points_shortfall, level_change=change_body(row.tier_change),
        coupons_reissued=[coupon_body(c) for c in coupons_reissued],
    ).model_dump(mode="json", by_alias=True)
