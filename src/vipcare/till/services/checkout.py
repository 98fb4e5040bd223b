"""The checkout: the sale and everything the programme does for it, in one transaction."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from vipcare.core import ledgers
from vipcare.core.memo import memo_scope
from vipcare.loyalty import selectors as loyalty_selectors
from vipcare.loyalty.services import points_capture, points_earn, points_spend, tier_evaluate_after_sale
from vipcare.members.models import Member
from vipcare.offers.pricing import OfferRefused
from vipcare.offers.services import coupons_issue_for_level_up, coupons_redeem
from vipcare.org.models import Staff, Store
from vipcare.sales.choices import SaleSource
from vipcare.sales.services import LineInput, sale_record
from vipcare.till.choices import TillHoldStatus
from vipcare.till.models import Checkout, TillHold
from vipcare.till.services.shared import (
    TillLine,
    TillRefused,
    check_active,
    check_lines,
    offer_refused,
    points_to_earn,
    price_for,
    scanned_coupons,
    split_tenders,
)
from vipcare.wallet.services import wallet_capture, wallet_pay


def _locked_hold(hold_id: int, store: Store, member: Member, now: datetime.datetime) -> TillHold:
    hold = TillHold.objects.select_for_update().filter(pk=hold_id).first()
    if hold is None:
        raise TillRefused(404, "hold_not_found", "no hold with this id", "hold_id")
    if hold.store_id != store.pk:
        raise TillRefused(403, "wrong_store", f"this hold belongs to another store than {store.code}", "hold_id")
    if hold.member_id != member.pk:
        raise TillRefused(422, "hold_other_member", "this hold is for another member", "hold_id")
    if hold.status == TillHoldStatus.CAPTURED:
        raise TillRefused(409, "hold_captured", "this hold has already paid for a checkout", "hold_id")
    if hold.status == TillHoldStatus.RELEASED:
        raise TillRefused(409, "hold_released", "this hold was released; hold again", "hold_id")
    if hold.expires_at <= now:
        raise TillRefused(409, "hold_expired", "this hold has timed out; hold again", "hold_id")
    return hold


@memo_scope()
@transaction.atomic
def till_checkout(*, store: Store, member: Member, lines: list[TillLine], receipt_no: str,
                  sold_at: datetime.datetime, coupon_codes: list[str] = (), points: int = 0,
                  stored_value_fen: int = 0, hold_id: int | None = None, staff: Staff | None = None,
                  expected_total_fen: int | None = None) -> Checkout:
    """Record a sale with everything the programme does for it, all or nothing (see the module)."""
    with ledgers.all_or_nothing():  # any refusal rolls the whole checkout back: no savepoint per ledger call
        return _checkout(store=store, member=member, lines=lines, receipt_no=receipt_no, sold_at=sold_at,
                         coupon_codes=coupon_codes, points=points, stored_value_fen=stored_value_fen, hold_id=hold_id,
                         staff=staff, expected_total_fen=expected_total_fen)


def _checkout(*, store: Store, member: Member, lines: list[TillLine], receipt_no: str, sold_at: datetime.datetime,
              coupon_codes: list[str], points: int, stored_value_fen: int, hold_id: int | None, staff: Staff | None,
              expected_total_fen: int | None) -> Checkout:
    now = timezone.now()
    check_active(member)
    check_lines(lines)
    hold = None
    if hold_id is not None:
        if points or stored_value_fen:
            raise TillRefused(422, "hold_and_amounts", "pay with a hold or with points and stored value, not both",
                              "hold_id")
        hold = _locked_hold(hold_id, store, member, now)
        points, stored_value_fen = hold.points, hold.stored_value_fen
    coupons = scanned_coupons(member, coupon_codes, sold_at, lock=True)
    tier, price, _birthday, _member_day = price_for(member, lines, coupons, sold_at)
    if expected_total_fen is not None and expected_total_fen != price.total_fen:
        raise TillRefused(409, "price_changed", f"the total is now {price.total_fen} fen, not {expected_total_fen}; "
                                                "quote again", "expected_total_fen")
    policy = loyalty_selectors.points_policy()
    points_fen, other = split_tenders(price.total_fen, points, stored_value_fen, policy)

    discounts = price.line_discounts()
    sale = sale_record(
        store=store, member=member, receipt_no=receipt_no, sold_at=sold_at, staff=staff, source=SaleSource.POS,
        lines=[LineInput(unit_price_fen=line.unit_price_fen, quantity=line.quantity,
                         discount_fen=line.discount_fen + off, brand=line.brand, sku=line.sku,
                         category=line.category) for line, off in zip(lines, discounts, strict=True)],
    )
    line_ids = [line.pk for line in sale.lines.all()]  # as sale_record made them, in order: no read

    points_entry = wallet_entry = None
    allocations: list = []
    if hold is not None:
        if hold.points_hold_id:
            points_entry = points_capture(hold=hold.points_hold, at=now, sale=sale)
            allocations = hold.points_hold.allocations
        if hold.wallet_hold_id:
            wallet_entry = wallet_capture(hold=hold.wallet_hold, at=now, sale=sale)
        hold.status, hold.settled_at = TillHoldStatus.CAPTURED, now
        hold.save(update_fields=["status", "settled_at"])
    else:
        if points:
            try:
                points_entry = points_spend(member=member, points=points, idempotency_key=f"sale:{sale.pk}:pay",
                                            at=sold_at, sale=sale, store=store)
            except ValidationError as error:
                raise TillRefused(409, "insufficient_points", "; ".join(error.messages), "points") from None
            allocations = points_entry.allocations
        if stored_value_fen:
            try:
                wallet_entry = wallet_pay(member=member, amount_fen=stored_value_fen, store=store, sale=sale,
                                          idempotency_key=f"sale:{sale.pk}:pay", at=sold_at)
            except ValidationError as error:
                raise TillRefused(409, "insufficient_balance", "; ".join(error.messages),
                                  "stored_value_fen") from None
    try:
        coupons_redeem(coupons=coupons, sale=sale, at=sold_at,
                       discounts={step.coupon: step.discount_fen for step in price.steps if step.coupon})
    except OfferRefused as refused:
        raise offer_refused(refused) from None

    earned = points_to_earn(tier, [str(pk) for pk in line_ids], lines, price.lines, points_fen, sold_at)
    if earned.total > 0:
        points_earn(member=member, points=earned.total, idempotency_key=f"sale:{sale.pk}", at=sold_at, sale=sale,
                    line_points=earned.per_line, store=store)
    change = tier_evaluate_after_sale(sale=sale, at=sold_at)
    issued = coupons_issue_for_level_up(change=change, at=sold_at) if change is not None else []
    checkout = ledgers.insert(  # plain SQL (core.ledgers), as the ledgers' entries
        Checkout, sale=sale, member=member, store=store, tier=tier, gross_fen=price.gross_fen,
        level_discount_fen=price.discount("level"), birthday_discount_fen=price.discount("birthday"),
        member_day_discount_fen=price.discount("member_day"), coupon_discount_fen=price.discount("coupon"),
        total_fen=price.total_fen, points_paid=points, points_paid_fen=points_fen,
        stored_value_paid_fen=stored_value_fen, other_paid_fen=other, points_entry=points_entry,
        points_allocations=allocations, wallet_entry=wallet_entry, hold=hold, points_earned=earned.total,
        tier_change=change, created_at=now,
    )
    # for the answer to the till, without reading them back
    checkout.price, checkout.coupons, checkout.coupons_issued = price, coupons, issued
    return checkout
