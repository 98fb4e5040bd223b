"""Request and response shapes of the rewards endpoints (/api/pos/rewards)."""

import datetime

from ninja import Field, Schema

from vipcare.rewards.models import Redemption
from vipcare.rewards.selectors import RewardOffer


class RewardErrorOut(Schema):
    detail: str
    code: str = Field(..., description="a stable reason the till can act on (docs/api.md)")
    errors: dict[str, str] | None = None


class MemberIn(Schema):
    member: str = Field(..., min_length=1, max_length=200, description="card number, phone or QR payload")


class RedeemIn(MemberIn):
    reward: str = Field(..., min_length=1, max_length=32, description="the reward's code")
    hand_over: bool = Field(True, description="the gift is handed over now; false: it waits (cancellable)")


class CancelIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


class RewardOut(Schema):
    code: str
    name: str
    kind: str
    points: int
    stock: int | None = Field(..., description="left to hand out; null: no limit")
    redeemable: bool
    why_not: str = Field(..., description="why this member cannot redeem it now; empty if they can")


class AvailableOut(Schema):
    card_no: str
    points: int = Field(..., description="spendable points")
    rewards: list[RewardOut]


class RedemptionOut(Schema):
    id: int
    reward: str
    name: str
    card_no: str
    store_code: str | None
    points: int
    status: str = Field(..., description="redeemed (waiting to be handed over), handed_over or cancelled")
    coupon_code: str | None
    redeemed_at: datetime.datetime
    handed_over_at: datetime.datetime | None
    cancelled_at: datetime.datetime | None
    points_balance: int = Field(..., description="the member's spendable points after this")


def offer_body(offer: RewardOffer) -> dict:
    reward = offer.reward
    return {"code": reward.code, "name": reward.name, "kind": reward.kind, "points": reward.points,
            "stock": reward.stock, "redeemable": offer.redeemable, "why_not": str(offer.why_not)}


def redemption_body(redemption: Redemption, *, points_balance: int) -> dict:
    return {
        "id": redemption.pk, "reward": redemption.reward.code, "name": redemption.reward.name,
        "card_no": redemption.member.card_no, "store_code": redemption.store.code if redemption.store else None,
        "points": redemption.points, "status": redemption.status,
        "coupon_code": redemption.coupon.code if redemption.coupon else None,
        "redeemed_at": redemption.redeemed_at.isoformat(),
        "handed_over_at": redemption.handed_over_at.isoformat() if redemption.handed_over_at else None,
        "cancelled_at": redemption.cancelled_at.isoformat() if redemption.cancelled_at else None,
        "points_balance": points_balance,
    }
