"""The till flow: a quote, a checkout that commits everything in one transaction, two-phase holds,
and the reversal of a checkout by its refunds.

A checkout, inside one transaction (the API wraps it in the idempotency helper's, so a retried
request replays the stored answer and does nothing twice):

1. takes the hold it captures, if any (locked), and the scanned coupons (locked, checked);
2. prices the lines (`vipcare.offers.pricing`: level, birthday, member day, coupons);
3. splits the total over the tenders: points, stored value, other (cash or card);
4. records the sale with the programme's discounts on its lines (so a refund of a line gives
   back what that line really cost);
5. pays with points and stored value (or captures the hold), redeems the coupons, earns points
   on what was not paid with points, evaluates the level (and issues level-up coupons);
6. writes the `Checkout`.

Locks are taken in one order everywhere — till hold, coupons, points account, stored-value
account, member level, member — so two checkouts (or a checkout and a refund) never deadlock.

A refund (through the till, the POS refund endpoint or a staff screen: sales.REFUND_HOOKS) gives
each tender back in proportion to what is left of it, takes back the points the refunded part
earned (ADR 0003: never below zero), re-evaluates the level, and — once the whole sale has come
back — reissues its coupons where the template says so.
"""

import dataclasses
import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from vipcare.core.memo import memo_scope
from vipcare.loyalty import earning
from vipcare.loyalty import selectors as loyalty_selectors
from vipcare.loyalty.models import PointsLot, PointsPolicy, Tier
from vipcare.loyalty.services import (
    points_capture,
    points_earn,
    points_hold,
    points_release,
    points_return_payment,
    points_reverse_for_refund,
    points_spend,
    tier_evaluate_after_refund,
    tier_evaluate_after_sale,
)
from vipcare.members.choices import MemberStatus
from vipcare.members.models import Member
from vipcare.offers import pricing
from vipcare.offers import selectors as offers_selectors
from vipcare.offers.choices import CouponStatus
from vipcare.offers.models import Coupon, CouponRedemption, MemberDay
from vipcare.offers.pricing import OfferRefused, Price
from vipcare.offers.services import (
    coupon_reissue_for_refund,
    coupons_for_checkout,
    coupons_issue_for_level_up,
    coupons_redeem,
)
from vipcare.org.models import Staff, Store
from vipcare.sales.choices import SaleSource
from vipcare.sales.models import Refund
from vipcare.sales.services import LineInput, _check_lines, sale_record
from vipcare.till.choices import TillHoldStatus
from vipcare.till.models import Checkout, CheckoutRefund, TillHold
from vipcare.wallet.models import WalletAccount
from vipcare.wallet.services import wallet_capture, wallet_hold, wallet_pay, wallet_refund_payment, wallet_release

# HTTP status of each offer refusal; the others are 422 (the request cannot be served as sent).
OFFER_STATUS = {"coupon_not_found": 404, "coupon_used": 409, "coupon_void": 409}
MAX_HOLD = datetime.timedelta(hours=1)


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


def _offer_refused(refused: OfferRefused) -> TillRefused:
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


# --- pieces shared by the quote and the checkout ---------------------------------------------------


def _active(member: Member) -> None:
    if member.status != MemberStatus.ACTIVE:
        raise TillRefused(422, "member_merged", "this card was merged into another member; use that member",
                          "member")


def _lines(lines: list[TillLine]) -> None:
    _check_lines([LineInput(unit_price_fen=line.unit_price_fen, quantity=line.quantity,
                            discount_fen=line.discount_fen) for line in lines])


def _coupons(member: Member, codes: list[str], at: datetime.datetime, *, lock: bool) -> list[Coupon]:
    try:
        return coupons_for_checkout(member=member, codes=list(codes), at=at, lock=lock)
    except OfferRefused as refused:
        raise _offer_refused(refused) from None


def _price(member: Member, lines: list[TillLine], coupons: list[Coupon], at: datetime.datetime
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
        raise _offer_refused(refused) from None
    return tier, price, birthday, member_day


def _tenders(total_fen: int, points: int, stored_value_fen: int, policy: PointsPolicy) -> tuple[int, int]:
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


def _earn(member_tier: Tier | None, keys: list[str], lines: list[TillLine], final: tuple[int, ...],
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


def _check_balances(quote: Quote) -> None:
    if quote.points > quote.points_balance:
        raise TillRefused(409, "insufficient_points", f"not enough points: {quote.points_balance} available, "
                                                      f"{quote.points} asked", "points")
    if quote.stored_value_fen > quote.stored_value_balance_fen:
        raise TillRefused(409, "insufficient_balance", f"not enough stored value: {quote.stored_value_balance_fen} "
                                                       f"fen available", "stored_value_fen")


# --- the quote ------------------------------------------------------------------------------------------


@memo_scope()
def till_quote(*, member: Member, lines: list[TillLine], coupon_codes: list[str] = (), points: int = 0,
               stored_value_fen: int = 0, at: datetime.datetime | None = None) -> Quote:
    """Price a basket for a member without changing anything; refuses what the checkout would."""
    at = at or timezone.now()
    _active(member)
    _lines(lines)
    coupons = _coupons(member, coupon_codes, at, lock=False)
    tier, price, birthday, member_day = _price(member, lines, coupons, at)
    policy = loyalty_selectors.points_policy()
    points_fen, other = _tenders(price.total_fen, points, stored_value_fen, policy)
    wallet = WalletAccount.objects.filter(member=member).values("principal_fen", "bonus_fen").first() or \
        {"principal_fen": 0, "bonus_fen": 0}
    earned = _earn(tier, [str(i) for i in range(len(lines))], lines, price.lines, points_fen, at)
    quote = Quote(member=member, tier=tier, price=price, coupons=coupons, birthday_percent=birthday,
                  member_day=member_day, points=points, points_fen=points_fen, stored_value_fen=stored_value_fen,
                  other_fen=other, points_to_earn=earned.total, points_balance=spendable_points(member, at),
                  stored_value_principal_fen=wallet["principal_fen"], stored_value_bonus_fen=wallet["bonus_fen"],
                  points_policy=policy)
    _check_balances(quote)
    return quote


# --- the checkout ---------------------------------------------------------------------------------------


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
    now = timezone.now()
    _active(member)
    _lines(lines)
    hold = None
    if hold_id is not None:
        if points or stored_value_fen:
            raise TillRefused(422, "hold_and_amounts", "pay with a hold or with points and stored value, not both",
                              "hold_id")
        hold = _locked_hold(hold_id, store, member, now)
        points, stored_value_fen = hold.points, hold.stored_value_fen
    coupons = _coupons(member, coupon_codes, sold_at, lock=True)
    tier, price, _birthday, _member_day = _price(member, lines, coupons, sold_at)
    if expected_total_fen is not None and expected_total_fen != price.total_fen:
        raise TillRefused(409, "price_changed", f"the total is now {price.total_fen} fen, not {expected_total_fen}; "
                                                "quote again", "expected_total_fen")
    policy = loyalty_selectors.points_policy()
    points_fen, other = _tenders(price.total_fen, points, stored_value_fen, policy)

    discounts = price.line_discounts()
    sale = sale_record(
        store=store, member=member, receipt_no=receipt_no, sold_at=sold_at, staff=staff, source=SaleSource.POS,
        lines=[LineInput(unit_price_fen=line.unit_price_fen, quantity=line.quantity,
                         discount_fen=line.discount_fen + off, brand=line.brand, sku=line.sku,
                         category=line.category) for line, off in zip(lines, discounts, strict=True)],
    )
    line_ids = list(sale.lines.order_by("pk").values_list("pk", flat=True))

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
        raise _offer_refused(refused) from None

    earned = _earn(tier, [str(pk) for pk in line_ids], lines, price.lines, points_fen, sold_at)
    if earned.total > 0:
        points_earn(member=member, points=earned.total, idempotency_key=f"sale:{sale.pk}", at=sold_at, sale=sale,
                    line_points=earned.per_line, store=store)
    change = tier_evaluate_after_sale(sale=sale, at=sold_at)
    issued = coupons_issue_for_level_up(change=change, at=sold_at) if change is not None else []
    checkout = Checkout.objects.create(
        sale=sale, member=member, store=store, tier=tier, gross_fen=price.gross_fen,
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


# --- holds ------------------------------------------------------------------------------------------------


@transaction.atomic
def till_hold(*, store: Store, member: Member, points: int = 0, stored_value_fen: int = 0,
              expires_at: datetime.datetime, at: datetime.datetime | None = None) -> TillHold:
    """Set points and/or stored value aside for a payment that may still fail (a card payment
    for the rest): a checkout naming the hold captures it; the till releases it otherwise; at
    `expires_at` it is released by `vipcare till release-holds` (or by the member's next hold)."""
    at = at or timezone.now()
    _active(member)
    if points < 0 or stored_value_fen < 0 or not (points or stored_value_fen):
        raise TillRefused(422, "nothing_to_hold", "hold some points or stored value (amounts above zero)")
    if not at < expires_at <= at + MAX_HOLD:
        raise TillRefused(422, "invalid", f"a hold lasts at most {int(MAX_HOLD.total_seconds())} seconds",
                          "expires_in_seconds")
    policy = loyalty_selectors.points_policy()
    if points % policy.redeem_step:
        raise TillRefused(422, "points_not_whole", f"hold a multiple of {policy.redeem_step} points", "points")
    for stale in TillHold.objects.filter(member=member, status=TillHoldStatus.HELD, expires_at__lte=at) \
            .order_by("pk"):
        _release(stale, at)
    hold = TillHold.objects.create(store=store, member=member, points=points,
                                   points_fen=policy.redeem_value_fen(points), stored_value_fen=stored_value_fen,
                                   expires_at=expires_at, created_at=at)
    if points:
        try:
            hold.points_hold = points_hold(member=member, points=points, idempotency_key=f"till-hold:{hold.pk}",
                                           expires_at=expires_at, at=at, store=store)
        except ValidationError as error:
            raise TillRefused(409, "insufficient_points", "; ".join(error.messages), "points") from None
    if stored_value_fen:
        try:
            hold.wallet_hold = wallet_hold(member=member, amount_fen=stored_value_fen, store=store, at=at,
                                           idempotency_key=f"till-hold:{hold.pk}", expires_at=expires_at)
        except ValidationError as error:
            raise TillRefused(409, "insufficient_balance", "; ".join(error.messages), "stored_value_fen") from None
    hold.save(update_fields=["points_hold", "wallet_hold"])
    return hold


def _release(hold: TillHold, at: datetime.datetime) -> TillHold:
    if hold.points_hold_id:
        points_release(hold=hold.points_hold, at=at)
    if hold.wallet_hold_id:
        wallet_release(hold=hold.wallet_hold, at=at)
    hold.status, hold.settled_at = TillHoldStatus.RELEASED, at
    hold.save(update_fields=["status", "settled_at"])
    return hold


@transaction.atomic
def till_hold_release(*, hold_id: int, store: Store | None, at: datetime.datetime | None = None) -> TillHold:
    """Give a hold's points and stored value back (the card payment failed). Releasing twice is
    harmless; a captured hold cannot be released (refund the checkout instead)."""
    at = at or timezone.now()
    hold = TillHold.objects.select_for_update().filter(pk=hold_id).first()
    if hold is None:
        raise TillRefused(404, "hold_not_found", "no hold with this id")
    if store is not None and hold.store_id != store.pk:
        raise TillRefused(403, "wrong_store", f"this hold belongs to another store than {store.code}")
    if hold.status == TillHoldStatus.CAPTURED:
        raise TillRefused(409, "hold_captured", "this hold has paid for a checkout; refund the checkout instead")
    if hold.status == TillHoldStatus.RELEASED:
        return hold
    return _release(hold, at)


def till_holds_release_expired(*, now: datetime.datetime | None = None) -> int:
    """Release every till hold whose time is up (a till that never came back), one per transaction."""
    now = now or timezone.now()
    released = 0
    for pk in TillHold.objects.filter(status=TillHoldStatus.HELD, expires_at__lte=now).order_by("pk") \
            .values_list("pk", flat=True):
        try:
            till_hold_release(hold_id=pk, store=None, at=now)
            released += 1
        except TillRefused:  # captured meanwhile
            continue
    return released


# --- refunds ---------------------------------------------------------------------------------------------


def checkout_refund_reverse(*, refund: Refund) -> CheckoutRefund | None:
    """Reverse, for one refund, what the checkout of its sale did (runs inside refund_record).

    Tenders: the refund is spread over points, stored value and other in proportion to what is
    still unrefunded of each (largest remainders), so the refunds of a sale add up to exactly its
    tenders. Points go back to the lots they came from, stored value to principal and bonus as
    the payment took them. Then the points the refunded part earned are taken back, the level is
    re-evaluated (an upgrade the sale made is undone, and its unused level-up coupons withdrawn),
    and once the whole sale has come back its coupons are reissued where the template says so.
    """
    checkout = Checkout.objects.filter(sale_id=refund.sale_id).select_related("sale", "wallet_entry").first()
    if checkout is None:
        return None
    done = CheckoutRefund.objects.filter(refund=refund).first()
    if done is not None:
        return done
    at = refund.refunded_at
    before = checkout.refunds.aggregate(points=Sum("points_returned", default=0),
                                        points_fen=Sum("points_returned_fen", default=0),
                                        stored=Sum("stored_value_returned_fen", default=0),
                                        other=Sum("other_returned_fen", default=0))
    left = [checkout.points_paid_fen - before["points_fen"], checkout.stored_value_paid_fen - before["stored"],
            checkout.other_paid_fen - before["other"]]
    points_fen, stored, other = pricing.allocate(refund.amount_fen, left)
    # points in proportion to their value given back so far; all of them with the last fen
    given_fen = before["points_fen"] + points_fen
    points_total = checkout.points_paid if given_fen == checkout.points_paid_fen else \
        checkout.points_paid * given_fen // checkout.points_paid_fen
    points = points_total - before["points"]
    if points:
        points_return_payment(refund=refund, points=points, paid=checkout.points_allocations, at=at)
    if stored:
        wallet_refund_payment(payment=checkout.wallet_entry, amount_fen=stored, idempotency_key=f"refund:{refund.pk}",
                              at=at, store=refund.store)
    reversal = points_reverse_for_refund(refund=refund, at=at)
    change = tier_evaluate_after_refund(refund=refund, at=at)
    if change is not None and checkout.tier_change_id:
        Coupon.objects.filter(issue_key__endswith=f":level_up:{checkout.tier_change_id}",
                              status=CouponStatus.ISSUED).update(status=CouponStatus.VOID,
                                                                 note=f"level-up undone by refund {refund.refund_no}")
    refunded = Refund.objects.filter(sale_id=refund.sale_id).aggregate(a=Sum("amount_fen", default=0))["a"]
    if refunded >= checkout.sale.total_fen:
        for redemption in CouponRedemption.objects.filter(sale_id=refund.sale_id).order_by("pk"):
            coupon_reissue_for_refund(redemption=redemption, refund=refund, at=at)
    return CheckoutRefund.objects.create(
        refund=refund, checkout=checkout, points_returned=points, points_returned_fen=points_fen,
        stored_value_returned_fen=stored, other_returned_fen=other,
        points_reversed=-(reversal.delta + reversal.pending_delta) if reversal else 0,
        points_shortfall=reversal.shortfall if reversal else 0, tier_change=change, created_at=timezone.now(),
    )

