"""The rewards endpoints of the POS API (mounted at /api/pos/rewards): what a member can redeem,
redeem by card and reward code, hand over, cancel.

Handlers parse, check the key's store, call one selector or service (writes inside the
idempotency helper, ADR 0001) and return. A refusal answers with its status and a stable `code`;
nothing was written.
"""

from django.http import HttpRequest, HttpResponse
from ninja import Router, Status

from vipcare.core.idempotency import idempotent
from vipcare.members.models import Member
from vipcare.members.selectors import member_identify
from vipcare.org.auth import pos_auth
from vipcare.rewards import schemas, selectors
from vipcare.rewards.models import Redemption, Reward
from vipcare.rewards.services import RewardRefused, reward_cancel, reward_hand_over, reward_redeem
from vipcare.sales.api import IdempotencyKey, _answer, _key_of

router = Router(auth=pos_auth)
REFUSALS = {status: schemas.RewardErrorOut for status in (403, 404, 409, 422)}
# HTTP status of each refusal; anything not named is 422.
STATUS = {"member_not_found": 404, "reward_not_found": 404, "redemption_not_found": 404, "wrong_store": 403,
          "insufficient_points": 409, "out_of_stock": 409, "over_limit": 409, "reward_inactive": 409,
          "coupon_refused": 409, "already_handed_over": 409, "redemption_cancelled": 409}


def _refused(refused: RewardRefused) -> Status:
    return Status(STATUS.get(refused.reason, 422), {"detail": f"{refused.field}: {refused.text}",
                                                     "code": refused.reason, "errors": {refused.field: refused.text}})


def _member(identifier: str) -> Member:
    member = member_identify(identifier)
    if member is None:
        raise RewardRefused("member_not_found", "no member with this card number, phone or QR code", "member")
    return member


def _reward(code: str) -> Reward:
    reward = Reward.objects.filter(code=code).first()
    if reward is None:
        raise RewardRefused("reward_not_found", "no reward with this code", "reward")
    return reward


def _balance(member: Member) -> int:
    return selectors.spendable_points(member)


@router.post("/available", response={200: schemas.AvailableOut, **REFUSALS},
             summary="The rewards a member can redeem in this store now, with their spendable points")
def available_view(request: HttpRequest, payload: schemas.MemberIn):
    # A read, sent as POST so that phone numbers stay out of URLs and access logs.
    try:
        member = _member(payload.member)
    except RewardRefused as refused:
        return _refused(refused)
    offers = selectors.rewards_for_member(member=member, store=_key_of(request).store)
    return Status(200, {"card_no": member.card_no, "points": _balance(member),
                        "rewards": [schemas.offer_body(offer) for offer in offers]})


@router.post("/redemptions", response={201: schemas.RedemptionOut, **REFUSALS},
             summary="Redeem a reward for a member's points (stock, limit and store checked)")
def redeem_view(request: HttpRequest, response: HttpResponse, payload: schemas.RedeemIn,
                idempotency_key: str | None = IdempotencyKey):
    api_key = _key_of(request)

    def perform() -> tuple[int, dict]:
        member = _member(payload.member)
        redemption = reward_redeem(reward=_reward(payload.reward), member=member, store=api_key.store,
                                   hand_over=payload.hand_over,
                                   idempotency_key=f"pos:{api_key.pk}:{(idempotency_key or '').strip()}")
        return 201, schemas.redemption_body(redemption, points_balance=_balance(member))

    try:
        result = idempotent(api_key=api_key, key=idempotency_key, operation="rewards.redeem",
                            payload=payload.model_dump(mode="json"), perform=perform)
    except RewardRefused as refused:
        return _refused(refused)
    return _answer(response, result)


def _own_redemption(api_key, redemption_id: int) -> Redemption:
    redemption = Redemption.objects.select_related("store", "reward", "member").filter(pk=redemption_id).first()
    if redemption is None:
        raise RewardRefused("redemption_not_found", "no redemption with this id", "redemption_id")
    if redemption.store_id != api_key.store_id:
        raise RewardRefused("wrong_store", f"this API key works for store {api_key.store.code} only",
                            "redemption_id")
    return redemption


@router.post("/redemptions/{redemption_id}/hand-over", response={200: schemas.RedemptionOut, **REFUSALS},
             summary="The member has the gift: the held points are spent")
def hand_over_view(request: HttpRequest, response: HttpResponse, redemption_id: int,
                   idempotency_key: str | None = IdempotencyKey):
    api_key = _key_of(request)

    def perform() -> tuple[int, dict]:
        redemption = reward_hand_over(redemption=_own_redemption(api_key, redemption_id))
        return 200, schemas.redemption_body(redemption, points_balance=_balance(redemption.member))

    try:
        result = idempotent(api_key=api_key, key=idempotency_key, operation="rewards.hand_over",
                            payload={"redemption_id": redemption_id}, perform=perform)
    except RewardRefused as refused:
        return _refused(refused)
    return _answer(response, result)


@router.post("/redemptions/{redemption_id}/cancel", response={200: schemas.RedemptionOut, **REFUSALS},
             summary="Cancel a redemption not handed over yet: points and stock go back")
def cancel_view(request: HttpRequest, response: HttpResponse, redemption_id: int, payload: schemas.CancelIn,
                idempotency_key: str | None = IdempotencyKey):
    api_key = _key_of(request)

    def perform() -> tuple[int, dict]:
        redemption = reward_cancel(redemption=_own_redemption(api_key, redemption_id), reason=payload.reason)
        return 200, schemas.redemption_body(redemption, points_balance=_balance(redemption.member))

    try:
        result = idempotent(api_key=api_key, key=idempotency_key, operation="rewards.cancel",
                            payload={"redemption_id": redemption_id, **payload.model_dump(mode="json")},
                            perform=perform)
    except RewardRefused as refused:
        return _refused(refused)
    return _answer(response, result)
