"""The till endpoints of the POS API (mounted at /api/pos/till): quote, checkout, holds, refunds.

Handlers parse, check the key's store, call one service (writes inside the idempotency helper)
and return. A refusal of the programme (unknown member, a used or expired coupon, not enough
points or stored value, …) answers with its status and a stable `code`; nothing was written.
"""

import datetime

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router, Status

from vipcare.core import ledgers
from vipcare.core.idempotency import idempotent
from vipcare.members.models import Member
from vipcare.members.selectors import member_identify
from vipcare.offers.models import Coupon
from vipcare.offers.selectors import live_coupons
from vipcare.org.auth import pos_auth
from vipcare.sales.api import IdempotencyKey, _answer, _key_of, _number_from_key, _staff, _when
from vipcare.sales.choices import SaleSource
from vipcare.sales.schemas import RefundIn, refund_body, sale_body
from vipcare.sales.services import RefundLineInput, refund_record
from vipcare.till import schemas
from vipcare.till.models import Checkout, TillHold
from vipcare.till.services import TillRefused, till_checkout, till_hold, till_hold_release, till_quote

router = Router(auth=pos_auth)
REFUSALS = {status: schemas.TillErrorOut for status in (403, 404, 409, 422)}


def _refused(refused: TillRefused) -> Status:
    return Status(refused.status, refused.body())


# What the till reads of a member: pricing needs the status and birthday key, the answer the card,
# name and phone; the rest of the archive (decrypted field by field) is left in the database.
_MEMBER_FIELDS = ("card_no", "name", "phone", "status", "birthday_key", "merged_into")


def _member(identifier: str) -> Member:
    member = member_identify(identifier, only=_MEMBER_FIELDS)
    if member is None:
        raise TillRefused(404, "member_not_found", "no member with this card number, phone or QR code", "member")
    return member


def _wrong_store(own, other: str, field: str = "store_code") -> TillRefused:
    return TillRefused(403, "wrong_store", f"this API key works for store {own.code} only, not for store {other}",
                       field)


# plain SQL (core.ledgers): read after every checkout for its answer
_BALANCES = ("SELECT (SELECT balance FROM loyalty_pointsaccount WHERE member_id = %s), "
             "(SELECT principal_fen + bonus_fen FROM wallet_walletaccount WHERE member_id = %s)")


def _balances(member: Member) -> tuple[int, int]:
    points, stored_value = ledgers.fetch(_BALANCES, [member.pk, member.pk])[0]
    return points or 0, stored_value or 0


@router.post("/quote", response={200: schemas.QuoteOut, **REFUSALS},
             summary="Price a basket for a member: discounts, coupons, tenders, points to earn")
def quote_view(request: HttpRequest, payload: schemas.QuoteIn):
    # A read, sent as POST like identify: it needs no idempotency key and changes nothing.
    try:
        member = _member(payload.member)
        lines = payload.till_lines()
        quote = till_quote(member=member, lines=lines, coupon_codes=payload.coupons, points=payload.points,
                           stored_value_fen=payload.stored_value_fen)
    except TillRefused as refused:
        return _refused(refused)
    return Status(200, schemas.quote_body(quote, lines, list(live_coupons(member))))


def checkout_answer(api_key, payload: schemas.CheckoutIn, idempotency_key: str | None) -> tuple[int, dict]:
    """The checkout and the body the till gets: what the idempotency helper runs (and the bench)."""
    store = api_key.store
    member = _member(payload.member)
    checkout = till_checkout(
        store=store, member=member, lines=payload.till_lines(), coupon_codes=payload.coupons,
        points=payload.points, stored_value_fen=payload.stored_value_fen, hold_id=payload.hold_id,
        receipt_no=payload.receipt_no or _number_from_key("R", api_key, idempotency_key),
        sold_at=_when(payload.sold_at, "sold_at"), staff=_staff(payload.staff_no, store),
        expected_total_fen=payload.expected_total_fen,
    )
    points, stored_value = _balances(member)
    return 201, schemas.checkout_body(
        checkout, sale=sale_body(checkout.sale), coupons_used=schemas.coupon_uses(checkout.price, checkout.coupons),
        coupons_issued=checkout.coupons_issued, points_balance=points, stored_value_balance_fen=stored_value)


@router.post("/checkouts", response={201: schemas.CheckoutOut, **REFUSALS}, by_alias=True,
             summary="Check out: the sale, points, stored value, coupons and level in one transaction")
def checkout_view(request: HttpRequest, response: HttpResponse, payload: schemas.CheckoutIn,
                  idempotency_key: str | None = IdempotencyKey):
    api_key = _key_of(request)
    store = api_key.store
    if payload.store_code and payload.store_code != store.code:
        return _refused(_wrong_store(store, payload.store_code))

    try:
        result = idempotent(api_key=api_key, key=idempotency_key, operation="till.checkout",
                            payload=payload.model_dump(mode="json"),
                            perform=lambda: checkout_answer(api_key, payload, idempotency_key))
    except TillRefused as refused:
        return _refused(refused)
    if not 200 <= result.status_code < 300:
        return _answer(response, result)
    # The body is a CheckoutOut already dumped by schemas.checkout_body (or its stored copy, on a
    # replay): rendered as it is, rather than validated by ninja a second time (~0.5 ms a checkout).
    from vipcare.api import api  # the API this router is mounted on (it imports this module)

    _answer(response, result)
    response.status_code = result.status_code
    return api.create_response(request, result.body, temporal_response=response)


@router.post("/holds", response={201: schemas.HoldOut, **REFUSALS},
             summary="Hold points and/or stored value for a payment that may still fail")
def hold_view(request: HttpRequest, response: HttpResponse, payload: schemas.HoldIn,
              idempotency_key: str | None = IdempotencyKey):
    api_key = _key_of(request)

    def perform() -> tuple[int, dict]:
        member = _member(payload.member)
        now = timezone.now()
        hold = till_hold(store=api_key.store, member=member, points=payload.points,
                         stored_value_fen=payload.stored_value_fen, at=now,
                         expires_at=now + datetime.timedelta(seconds=payload.expires_in_seconds))
        return 201, schemas.hold_body(hold)

    try:
        result = idempotent(api_key=api_key, key=idempotency_key, operation="till.hold",
                            payload=payload.model_dump(mode="json"), perform=perform)
    except TillRefused as refused:
        return _refused(refused)
    return _answer(response, result)


@router.post("/holds/{hold_id}/release", response={200: schemas.HoldOut, **REFUSALS},
             summary="Release a hold: its points and stored value go back")
def hold_release_view(request: HttpRequest, response: HttpResponse, hold_id: int,
                      idempotency_key: str | None = IdempotencyKey):
    api_key = _key_of(request)
    hold = TillHold.objects.select_related("store").filter(pk=hold_id).first()
    if hold is None:
        return _refused(TillRefused(404, "hold_not_found", "no hold with this id"))
    if hold.store_id != api_key.store_id:
        return _refused(_wrong_store(api_key.store, hold.store.code, "hold_id"))

    def perform() -> tuple[int, dict]:
        return 200, schemas.hold_body(till_hold_release(hold_id=hold_id, store=api_key.store))

    try:
        result = idempotent(api_key=api_key, key=idempotency_key, operation="till.hold_release",
                            payload={"hold_id": hold_id}, perform=perform)
    except TillRefused as refused:
        return _refused(refused)
    return _answer(response, result)


@router.post("/checkouts/{checkout_id}/refunds", response={201: schemas.CheckoutRefundOut, **REFUSALS}, by_alias=True,
             summary="Refund a checkout, whole or some lines: every tender, points, level and coupons reversed")
def checkout_refund_view(request: HttpRequest, response: HttpResponse, checkout_id: int, payload: RefundIn,
                         idempotency_key: str | None = IdempotencyKey):
    api_key = _key_of(request)
    checkout = Checkout.objects.select_related("sale__store").filter(pk=checkout_id).first()
    if checkout is None:
        return _refused(TillRefused(404, "checkout_not_found", "no checkout with this id"))
    if checkout.sale.store_id != api_key.store_id:
        return _refused(_wrong_store(api_key.store, checkout.sale.store.code, "checkout_id"))

    def perform() -> tuple[int, dict]:
        lines = None
        if payload.lines is not None:
            lines = [RefundLineInput(sale_line_id=line.sale_line_id, quantity=line.quantity) for line in payload.lines]
        refund = refund_record(
            sale=checkout.sale, refund_no=payload.refund_no or _number_from_key("F", api_key, idempotency_key),
            refunded_at=_when(payload.refunded_at, "refunded_at"), lines=lines, reason=payload.reason,
            source=SaleSource.POS,
        )
        reissued = list(Coupon.objects.filter(reissue_refund=refund).select_related("template").order_by("pk"))
        return 201, schemas.checkout_refund_body(refund.checkout_refund, refund=refund_body(refund),
                                                 coupons_reissued=reissued)

    try:
        result = idempotent(api_key=api_key, key=idempotency_key, operation="till.refund",
                            payload={"checkout_id": checkout_id, **payload.model_dump(mode="json")}, perform=perform)
    except TillRefused as refused:
        return _refused(refused)
    return _answer(response, result)
