"""The only code that changes levels and points.

Every points service follows one pattern (docs/adr/0003-ledgers.md): inside one transaction,
lock the account row, return the earlier entry if the idempotency key was already used, settle
lots that matured or lapsed by now, check, append entries, update the cached balance.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from vipcare.core import ledgers
from vipcare.core.audit import audit_record
from vipcare.core.ledgers import entry_for_key, lock_member_accounts
from vipcare.core.models import AuditAction
from vipcare.loyalty import earning, selectors, tiers
from vipcare.loyalty.choices import ExpiryMode, HoldStatus, PointsEntryKind, TierChangeReason
from vipcare.loyalty.models import (
    MemberTier,
    PointsAccount,
    PointsEntry,
    PointsHold,
    PointsLot,
    PointsPolicy,
    Tier,
    TierChange,
)
from vipcare.members.choices import MemberStatus
from vipcare.members.models import Member
from vipcare.org.choices import Role
from vipcare.org.selectors import user_has_role
from vipcare.sales.models import Refund, RefundLine, Sale

# Who may add or remove points by hand.
ADJUST_ROLES = {Role.ADMIN, Role.OPERATIONS_MANAGER}


# --- locking and appending --------------------------------------------------------------------


def _lock_accounts(members: list[Member]) -> dict[int, PointsAccount]:
    return lock_member_accounts(PointsAccount, [m.pk for m in members])


def _lock_account(member: Member) -> PointsAccount:
    return _lock_accounts([member])[member.pk]


def _lock_account_by_pk(pk: int) -> PointsAccount:
    return PointsAccount.objects.select_for_update().get(pk=pk)


def _replay(account: PointsAccount, key: str, kind: str) -> PointsEntry | None:
    return entry_for_key(PointsEntry, account, key, kind)


def _append(account: PointsAccount, *, kind: str, key: str, at: datetime.datetime, delta: int = 0,
            pending_delta: int = 0, **fields) -> PointsEntry:
    account.balance += delta
    account.pending += pending_delta
    if account.balance < 0 or account.pending < 0:
        raise ValidationError({"points": "not enough points"})
    # plain SQL (core.ledgers): the checkout appends twice, and the ORM's create and save cost more than the rows
    entry = ledgers.insert(
        PointsEntry, account=account, kind=kind, delta=delta, pending_delta=pending_delta,
        balance_after=account.balance, pending_after=account.pending, idempotency_key=key, created_at=at, **fields,
    )
    ledgers.execute(_SET_BALANCE, [account.balance, account.pending, account.pk])
    return entry


_SET_BALANCE = "UPDATE loyalty_pointsaccount SET balance = %s, pending = %s WHERE id = %s"
# Spendable lots, soonest-expiring first (no expiry last), then oldest.
_SPENDABLE_LOTS = ("SELECT id, remaining FROM loyalty_pointslot WHERE account_id = %s AND matured AND remaining > 0 "
                   "AND id <> %s ORDER BY expires_at IS NULL, expires_at, earned_at, id")
_SET_REMAINING = "UPDATE loyalty_pointslot SET remaining = %s WHERE id = %s"
# Lots to settle: pending ones whose period ended, or ones with points left that lapsed.
_DUE_LOTS = ("SELECT id FROM loyalty_pointslot WHERE account_id = %s AND ((NOT matured AND available_at <= %s) "
             "OR (remaining > 0 AND expires_at <= %s)) LIMIT 1")


def _burn(account: PointsAccount, points: int, *, exclude_lot: int | None = None) -> list[list[int]]:
    """Take `points` from the spendable lots, soonest-expiring first (no expiry last)."""
    allocations, need, changed = [], points, []
    for lot_id, remaining in ledgers.fetch(_SPENDABLE_LOTS, [account.pk, exclude_lot or 0]):
        if need == 0:
            break
        take = min(remaining, need)
        need -= take
        allocations.append([lot_id, take])
        changed.append((lot_id, remaining - take))
    if need:
        raise ValidationError({"points": f"not enough points: {account.balance} available, {points} asked"})
    for lot_id, remaining in changed:
        ledgers.execute(_SET_REMAINING, [remaining, lot_id])
    return allocations


def _save_remaining(lots: list[PointsLot]) -> None:
    """Write the lots' `remaining`: a plain UPDATE each (a spend usually touches one or two lots)."""
    for lot in lots:
        ledgers.execute(_SET_REMAINING, [lot.remaining, lot.pk])


def _settle(account: PointsAccount, at: datetime.datetime) -> None:
    """Make due pending lots spendable and lapse expired ones, so nothing uses a lapsed point
    even if the nightly job has not run yet."""
    when = ledgers.db_datetime(at)
    if not ledgers.fetch(_DUE_LOTS, [account.pk, when, when]):  # most calls find nothing: one cheap read
        return
    due = list(PointsLot.objects.filter(Q(matured=False, available_at__lte=at) | Q(remaining__gt=0, expires_at__lte=at),
                                        account=account).order_by("pk"))
    for lot in due:
        if lot.matured or lot.available_at > at:
            continue
        lot.matured = True
        lot.save(update_fields=["matured"])
        if lot.remaining:
            _append(account, kind=PointsEntryKind.MATURE, key=f"mature:{lot.pk}", at=lot.available_at,
                    delta=lot.remaining, pending_delta=-lot.remaining, lot=lot)
    for lot in due:
        if not lot.remaining or lot.expires_at is None or lot.expires_at > at:
            continue
        points, lot.remaining = lot.remaining, 0
        lot.save(update_fields=["remaining"])
        # A lapsed lot can lapse again: points released from a hold, or a refunded payment, go back to
        # the lot they came from. Each lapse is its own entry, so each needs its own key.
        lapses = PointsEntry.objects.filter(account=account, lot=lot, kind=PointsEntryKind.EXPIRE).count()
        key = f"expire:{lot.pk}" if not lapses else f"expire:{lot.pk}:{lapses + 1}"
        if lot.matured:
            _append(account, kind=PointsEntryKind.EXPIRE, key=key, at=lot.expires_at, delta=-points,
                    lot=lot, allocations=[[lot.pk, points]])
        else:
            _append(account, kind=PointsEntryKind.EXPIRE, key=key, at=lot.expires_at,
                    pending_delta=-points, lot=lot, allocations=[[lot.pk, points]])


def _check_points(points: int, *, field: str = "points") -> None:
    if not isinstance(points, int) or points <= 0:
        raise ValidationError({field: "must be a whole number of points above zero"})


def _check_member(member: Member) -> None:
    if member.status != MemberStatus.ACTIVE:
        raise ValidationError({"member": "this card was merged into another member; use that member"})


def lot_dates(policy: PointsPolicy, at: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime | None]:
    """(available_at, expires_at) of points earned at `at` under the policy."""
    available_at = at + datetime.timedelta(days=policy.pending_days)
    if policy.expiry_mode == ExpiryMode.NONE:
        return available_at, None
    if policy.expiry_mode == ExpiryMode.YEAR_END:
        local = timezone.localtime(at)
        return available_at, local.replace(year=local.year + 1, month=1, day=1, hour=0, minute=0, second=0,
                                           microsecond=0)
    return available_at, earning.add_months(at, policy.expiry_months)


# --- points ---------------------------------------------------------------------------------------


@ledgers.atomic
def points_earn(*, member: Member, points: int, idempotency_key: str, at: datetime.datetime | None = None,
                reason: str = "", sale: Sale | None = None, line_points: dict | None = None, store=None,
                created_by=None, kind: str = PointsEntryKind.EARN) -> PointsEntry:
    """Add a lot of points (pending first if the policy has a return window)."""
    _check_points(points)
    at = at or timezone.now()
    account = _lock_account(member)
    if (done := _replay(account, idempotency_key, kind)) is not None:
        return done
    _check_member(member)
    _settle(account, at)
    available_at, expires_at = lot_dates(selectors.points_policy(), at)
    matured = available_at <= at
    lot = ledgers.insert(PointsLot, account=account, points=points, remaining=points, earned_at=at,
                         available_at=available_at, matured=matured, expires_at=expires_at, sale=sale,
                         line_points=line_points or {})
    return _append(account, kind=kind, key=idempotency_key, at=at, delta=points if matured else 0,
                   pending_delta=0 if matured else points, lot=lot, sale=sale, store=store, reason=reason,
                   created_by=created_by, allocations=[[lot.pk, points]])


def _sale_earn_lines(sale: Sale) -> list[earning.EarnLine]:
    return [earning.EarnLine(key=str(line.pk), amount_fen=line.amount_fen, brand=line.brand, category=line.category)
            for line in sale.lines.all()]


def points_earn_for_sale(*, sale: Sale, at: datetime.datetime | None = None) -> PointsEntry | None:
    """Earn what the sale's lines earn under today's rules and the member's level before this sale
    (call it before `tier_evaluate_after_sale`: a new level multiplies from the next purchase).
    The sale is its own idempotency key. None when the sale earns nothing."""
    result = selectors.points_preview(member=sale.member, lines=_sale_earn_lines(sale), sold_at=sale.sold_at)
    if result.total <= 0:
        return None
    return points_earn(member=sale.member, points=result.total, idempotency_key=f"sale:{sale.pk}",
                       at=at or sale.sold_at, sale=sale, line_points=result.per_line, store=sale.store)


@ledgers.atomic
def points_spend(*, member: Member, points: int, idempotency_key: str, at: datetime.datetime | None = None,
                 reason: str = "", sale: Sale | None = None, store=None, created_by=None) -> PointsEntry:
    """Spend spendable points (a gift, a coupon, payment at the till), soonest-expiring lots first."""
    _check_points(points)
    at = at or timezone.now()
    account = _lock_account(member)
    if (done := _replay(account, idempotency_key, PointsEntryKind.SPEND)) is not None:
        return done
    _check_member(member)
    _settle(account, at)
    allocations = _burn(account, points)
    return _append(account, kind=PointsEntryKind.SPEND, key=idempotency_key, at=at, delta=-points,
                   allocations=allocations, sale=sale, store=store, reason=reason, created_by=created_by)


def _may_adjust(user) -> bool:
    return user_has_role(user, ADJUST_ROLES)


@transaction.atomic
def points_adjust(*, member: Member, points: int, reason: str, adjusted_by, idempotency_key: str,
                  at: datetime.datetime | None = None, request=None) -> PointsEntry:
    """Add (positive) or remove (negative) points by hand: authorised roles only, with a reason,
    in the audit log. Added points form a lot that lapses like earned ones."""
    if not _may_adjust(adjusted_by):
        raise PermissionDenied("only operations managers and administrators may adjust points")
    if not reason.strip():
        raise ValidationError({"reason": "say why the points are adjusted"})
    if not isinstance(points, int) or points == 0:
        raise ValidationError({"points": "must be a whole number other than zero"})
    at = at or timezone.now()
    account = _lock_account(member)
    if (done := _replay(account, idempotency_key, PointsEntryKind.ADJUST)) is not None:
        return done
    _check_member(member)
    _settle(account, at)
    if points > 0:
        _available_at, expires_at = lot_dates(selectors.points_policy(), at)
        lot = PointsLot.objects.create(account=account, points=points, remaining=points, earned_at=at,
                                       available_at=at, matured=True, expires_at=expires_at)
        allocations = [[lot.pk, points]]
    else:
        lot, allocations = None, _burn(account, -points)
    entry = _append(account, kind=PointsEntryKind.ADJUST, key=idempotency_key, at=at, delta=points, lot=lot,
                    allocations=allocations, reason=reason, created_by=adjusted_by)
    audit_record(user=adjusted_by, action=AuditAction.POINTS_ADJUST, target=member, request=request,
                 detail={"points": points, "reason": reason, "entry_id": entry.pk})
    return entry


@transaction.atomic
def points_open(*, member: Member, points: int, opened_by, idempotency_key: str, reason: str,
                expires_at: datetime.datetime | None = None, at: datetime.datetime | None = None,
                request=None) -> PointsEntry:
    """Carry a member's points over from an old card system: one spendable lot that lapses when
    the old system said (`expires_at`), or as the policy says for points earned today. Authorised
    roles only, in the audit log, like an adjustment."""
    if not _may_adjust(opened_by):
        raise PermissionDenied("only operations managers and administrators may carry points over")
    if not reason.strip():
        raise ValidationError({"reason": "say where the points come from"})
    if not isinstance(points, int) or points <= 0:
        raise ValidationError({"points": "must be a whole number above zero"})
    at = at or timezone.now()
    if expires_at is not None and expires_at <= at:
        raise ValidationError({"expires_at": "these points have already lapsed"})
    account = _lock_account(member)
    if (done := _replay(account, idempotency_key, PointsEntryKind.OPENING)) is not None:
        return done
    _check_member(member)
    _settle(account, at)
    if expires_at is None:
        _available_at, expires_at = lot_dates(selectors.points_policy(), at)
    lot = PointsLot.objects.create(account=account, points=points, remaining=points, earned_at=at,
                                   available_at=at, matured=True, expires_at=expires_at)
    entry = _append(account, kind=PointsEntryKind.OPENING, key=idempotency_key, at=at, delta=points, lot=lot,
                    allocations=[[lot.pk, points]], reason=reason, created_by=opened_by)
    audit_record(user=opened_by, action=AuditAction.POINTS_ADJUST, target=member, request=request,
                 detail={"points": points, "reason": reason, "entry_id": entry.pk, "opening": True})
    return entry


@transaction.atomic
def points_reverse_for_refund(*, refund: Refund, at: datetime.datetime | None = None) -> PointsEntry | None:
    """Take back what the refunded part of a sale earned, line by line in proportion.

    Taken first from the sale's own lot (pending or not), then from other spendable lots, soonest-
    expiring first. What the member has already spent is not taken: the balance never goes below
    zero, and the entry records the shortfall (docs/adr/0003-ledgers.md). The refund is the key.
    """
    at = at or timezone.now()
    lot = PointsLot.objects.filter(sale_id=refund.sale_id).order_by("pk").first()
    if lot is None:
        return None  # the sale earned nothing
    while True:  # a merge may move the lot between reading it and locking its account
        account = _lock_account_by_pk(lot.account_id)
        lot.refresh_from_db()
        if lot.account_id == account.pk:
            break
    key = f"refund:{refund.pk}"
    if (done := _replay(account, key, PointsEntryKind.REFUND_REVERSAL)) is not None:
        return done
    _settle(account, at)
    lot.refresh_from_db()
    # everything refunded of this sale up to and including this refund, per line
    refunded = {
        str(row["sale_line"]): row["amount"]
        for row in RefundLine.objects.filter(refund__sale_id=refund.sale_id, refund__pk__lte=refund.pk)
        .values("sale_line").annotate(amount=Sum("amount_fen"))
    }
    amounts = {str(pk): amount for pk, amount in
               refund.sale.lines.values_list("pk", "amount_fen")}
    claim = earning.refund_claim(line_points=lot.line_points, line_amounts=amounts, refunded=refunded)
    due = claim - lot.reversed_points
    if due <= 0:
        return None
    own = min(lot.remaining, due)
    lot.remaining -= own
    lot.reversed_points += due
    lot.save(update_fields=["remaining", "reversed_points"])
    allocations = [[lot.pk, own]] if own else []
    other = min(due - own, account.balance - (own if lot.matured else 0))
    if other > 0:
        allocations += _burn(account, other, exclude_lot=lot.pk)
    else:
        other = 0
    delta = -(other + (own if lot.matured else 0))
    pending_delta = -own if not lot.matured else 0
    return _append(account, kind=PointsEntryKind.REFUND_REVERSAL, key=key, at=at, delta=delta,
                   pending_delta=pending_delta, lot=lot, allocations=allocations, shortfall=due - own - other,
                   sale_id=refund.sale_id, refund=refund, store_id=refund.store_id)


@transaction.atomic
def points_return_payment(*, refund: Refund, points: int, paid: list[list[int]],
                          at: datetime.datetime | None = None) -> PointsEntry | None:
    """Give back `points` of a points payment for a refund of the sale it paid for.

    `paid` is what the payment took, [[lot id, points], …] (its spend entry's or hold's
    allocations). The points go back to those lots, the latest-expiring first (the payment took
    the soonest-expiring first), never more to a lot than the payment took from it, counting what
    earlier refunds of the sale gave back. A lot that lapsed meanwhile lapses again at once: the
    member gets back what they would have had. The refund is the key, so a retry changes nothing.
    """
    if points <= 0 or not paid:
        return None
    at = at or timezone.now()
    first_lot = paid[0][0]
    while True:  # a merge may move the lots between reading and locking their account
        account = _lock_account_by_pk(PointsLot.objects.values_list("account_id", flat=True).get(pk=first_lot))
        if PointsLot.objects.filter(pk=first_lot, account=account).exists():
            break
    key = f"refund:{refund.pk}:payment"
    if (done := _replay(account, key, PointsEntryKind.PAYMENT_REFUND)) is not None:
        return done
    _settle(account, at)
    room: dict[int, int] = {}
    for lot_id, taken in paid:
        room[lot_id] = room.get(lot_id, 0) + taken
    for allocations in PointsEntry.objects.filter(kind=PointsEntryKind.PAYMENT_REFUND, sale_id=refund.sale_id) \
            .values_list("allocations", flat=True):
        for lot_id, given in allocations:
            room[lot_id] = room.get(lot_id, 0) - given
    lots = PointsLot.objects.in_bulk(list(room))
    latest_first = sorted(lots.values(), reverse=True, key=lambda lot: (
        lot.expires_at is None, lot.expires_at or lot.earned_at, lot.earned_at, lot.pk))
    need, allocations, changed = points, [], []
    for lot in latest_first:
        give = min(room[lot.pk], need)
        if give <= 0:
            continue
        lot.remaining += give
        need -= give
        allocations.append([lot.pk, give])
        changed.append(lot)
    if need:
        raise ValidationError({"points": f"only {points - need} points of this payment are left to give back"})
    _save_remaining(changed)
    entry = _append(account, kind=PointsEntryKind.PAYMENT_REFUND, key=key, at=at, delta=points,
                    allocations=allocations, sale_id=refund.sale_id, refund=refund, store_id=refund.store_id)
    _settle(account, at)
    return entry


@transaction.atomic
def points_hold(*, member: Member, points: int, idempotency_key: str, expires_at: datetime.datetime,
                at: datetime.datetime | None = None, store=None) -> PointsHold:
    """Set points aside for a payment that is not final yet; capture or release it later."""
    _check_points(points)
    at = at or timezone.now()
    if expires_at <= at:
        raise ValidationError({"expires_at": "must be in the future"})
    account = _lock_account(member)
    if (done := _replay(account, idempotency_key, PointsEntryKind.HOLD)) is not None:
        return done.hold
    _check_member(member)
    _settle(account, at)
    allocations = _burn(account, points)
    hold = PointsHold.objects.create(account=account, points=points, expires_at=expires_at, allocations=allocations,
                                     store=store, created_at=at)
    _append(account, kind=PointsEntryKind.HOLD, key=idempotency_key, at=at, delta=-points, hold=hold,
            allocations=allocations, store=store)
    return hold


def _locked_hold(hold: PointsHold) -> tuple[PointsAccount, PointsHold]:
    account = _lock_account_by_pk(PointsHold.objects.values_list("account_id", flat=True).get(pk=hold.pk))
    return account, PointsHold.objects.get(pk=hold.pk)


@ledgers.atomic
def points_capture(*, hold: PointsHold, at: datetime.datetime | None = None, sale: Sale | None = None
                   ) -> PointsEntry:
    """Make a hold final: the points were already taken from the balance when held."""
    at = at or timezone.now()
    account, hold = _locked_hold(hold)
    key = f"capture:{hold.pk}"
    if (done := _replay(account, key, PointsEntryKind.CAPTURE)) is not None:
        return done
    if hold.status != HoldStatus.HELD:
        raise ValidationError({"hold": "this hold was released; hold the points again"})
    if hold.expires_at <= at:
        raise ValidationError({"hold": "this hold has expired; hold the points again"})
    hold.status, hold.settled_at = HoldStatus.CAPTURED, at
    hold.save(update_fields=["status", "settled_at"])
    return _append(account, kind=PointsEntryKind.CAPTURE, key=key, at=at, hold=hold, sale=sale, store=hold.store,
                   allocations=hold.allocations)


@transaction.atomic
def points_release(*, hold: PointsHold, at: datetime.datetime | None = None) -> PointsEntry:
    """Give held points back to the lots they came from (a lot that lapsed meanwhile lapses now)."""
    at = at or timezone.now()
    account, hold = _locked_hold(hold)
    key = f"release:{hold.pk}"
    if (done := _replay(account, key, PointsEntryKind.RELEASE)) is not None:
        return done
    if hold.status != HoldStatus.HELD:
        raise ValidationError({"hold": "this hold was captured and cannot be released; refund it instead"})
    lots = PointsLot.objects.in_bulk([lot_id for lot_id, _ in hold.allocations])
    for lot_id, points in hold.allocations:
        lots[lot_id].remaining += points
    _save_remaining(list(lots.values()))
    hold.status, hold.settled_at = HoldStatus.RELEASED, at
    hold.save(update_fields=["status", "settled_at"])
    entry = _append(account, kind=PointsEntryKind.RELEASE, key=key, at=at, delta=hold.points, hold=hold,
                    store=hold.store, allocations=hold.allocations)
    _settle(account, at)
    return entry


def points_holds_release_expired(*, now: datetime.datetime | None = None) -> int:
    """Release every hold whose time is up (a till that never came back). Returns how many."""
    now = now or timezone.now()
    released = 0
    for hold in PointsHold.objects.filter(status=HoldStatus.HELD, expires_at__lte=now).order_by("pk"):
        try:
            points_release(hold=hold, at=now)
            released += 1
        except ValidationError:  # captured meanwhile
            continue
    return released


def points_expire(*, as_of: datetime.datetime | None = None) -> int:
    """The nightly job: lapse expired lots and make matured pending lots spendable, one account
    per transaction. Safe to run again. Returns the number of accounts settled."""
    as_of = as_of or timezone.now()
    accounts = selectors.accounts_with_due_lots(as_of)
    for pk in accounts:
        with transaction.atomic():
            _settle(_lock_account_by_pk(pk), as_of)
    return len(accounts)


# --- levels -----------------------------------------------------------------------------------------


def _lock_member_tier(member_id: int, at: datetime.datetime) -> MemberTier:
    # plain SQL (core.ledgers): every checkout locks the member's level
    state = next(iter(ledgers.select(MemberTier, "member_id = %s", [member_id], lock=True)), None)
    if state is None:  # the member's first level check: a row without a level, whoever inserts it first
        ledgers.execute(_NEW_MEMBER_TIER, [member_id, ledgers.db_datetime(at)])
        state = ledgers.select(MemberTier, "member_id = %s", [member_id], lock=True)[0]
    return state


_NEW_MEMBER_TIER = ("INSERT INTO loyalty_membertier (member_id, tier_id, since, below_since, reviewed_at) "
                    "VALUES (%s, NULL, %s, NULL, NULL) ON CONFLICT (member_id) DO NOTHING")


def _change_tier(state: MemberTier, to: Tier | None, *, reason: str, at: datetime.datetime, value: int = 0,
                 sale: Sale | None = None, note: str = "", by=None) -> TierChange:
    change = TierChange.objects.create(member_id=state.member_id, from_tier_id=state.tier_id, to_tier=to,
                                       reason=reason, window_value=value, sale=sale, note=note, changed_at=at,
                                       created_by=by)
    state.tier, state.since, state.below_since = to, at, None
    state.save()
    return change


def _rung_of(ladder: list[tiers.Rung], tier: Tier | int | None) -> tiers.Rung | None:
    tier_id = tier.pk if isinstance(tier, Tier) else tier
    return next((r for r in ladder if tier_id is not None and r.id == tier_id), None)


_REFUNDED = "SELECT COALESCE(SUM(amount_fen), 0) FROM sales_refund WHERE sale_id = %s"


@ledgers.atomic
def tier_evaluate_after_sale(*, sale: Sale, at: datetime.datetime | None = None) -> TierChange | None:
    """Upgrade at once when the sale (alone, or with the window's other spend) earns a higher level."""
    at = at or timezone.now()
    policy = selectors.tier_policy()
    ladder, rows = selectors.tier_ladder(policy)
    state = _lock_member_tier(sale.member_id, at)
    start, end = tiers.current_window(policy.window, policy.rolling_days, sale.sold_at,
                                      timezone.get_current_timezone())
    value, _largest = selectors.window_figures(sale.member_id, policy, start, end)
    refunded = ledgers.fetch(_REFUNDED, [sale.pk])[0][0]
    supported = tiers.supported_rung(ladder, value, single_purchase_fen=sale.total_fen - refunded)
    current = _rung_of(ladder, state.tier_id)
    if supported is None or (current is not None and supported.rank <= current.rank):
        return None
    return _change_tier(state, rows[supported.id], reason=TierChangeReason.SALE, at=at, value=value, sale=sale)


@transaction.atomic
def tier_evaluate_after_refund(*, refund: Refund, at: datetime.datetime | None = None) -> TierChange | None:
    """Undo an upgrade that the refunded sale made, if the window no longer supports it."""
    at = at or timezone.now()
    state = _lock_member_tier(refund.member_id, at)
    last = TierChange.objects.filter(member_id=refund.member_id).order_by("-changed_at", "-pk").first()
    if last is None or last.reason != TierChangeReason.SALE or last.sale_id != refund.sale_id \
            or last.to_tier_id != state.tier_id:
        return None
    policy = selectors.tier_policy()
    ladder, rows = selectors.tier_ladder(policy)
    sale = refund.sale
    start, end = tiers.current_window(policy.window, policy.rolling_days, sale.sold_at,
                                      timezone.get_current_timezone())
    value, _largest = selectors.window_figures(refund.member_id, policy, start, end)
    refunded = sale.refunds.aggregate(a=Sum("amount_fen", default=0))["a"]
    supported = tiers.supported_rung(ladder, value, single_purchase_fen=sale.total_fen - refunded)
    current = _rung_of(ladder, state.tier)
    if current is None or (supported is not None and supported.rank >= current.rank):
        return None
    before = _rung_of(ladder, last.from_tier)
    target = max([r for r in (supported, before) if r is not None], key=lambda r: r.rank, default=None)
    return _change_tier(state, rows[target.id] if target else None, reason=TierChangeReason.REFUND, at=at,
                        value=value, sale=sale)


def _review_member(member_id: int, *, as_of: datetime.datetime, policy, ladder, rows) -> TierChange | None:
    state = _lock_member_tier(member_id, as_of)
    best_value, supported = 0, None
    for start, end in tiers.review_windows(policy.window, policy.rolling_days, as_of, timezone.get_current_timezone()):
        value, largest = selectors.window_figures(member_id, policy, start, end)
        rung = tiers.supported_rung(ladder, value, single_purchase_fen=largest)
        best_value = max(best_value, value)
        if rung is not None and (supported is None or rung.rank > supported.rank):
            supported = rung
    current = _rung_of(ladder, state.tier)
    target = tiers.review_target(ladder, current, supported, policy.downgrade_mode)
    state.reviewed_at = as_of
    if (target.rank if target else 0) > (current.rank if current else 0):
        return _change_tier(state, rows[target.id], reason=TierChangeReason.REVIEW_UP, at=as_of, value=best_value)
    if target == current:
        state.below_since = None if (supported and current and supported.rank >= current.rank) or current is None \
            else state.below_since
        state.save(update_fields=["reviewed_at", "below_since"])
        return None
    # below the level: wait out the grace period from the first review that saw it
    if state.below_since is None:
        state.below_since = as_of
    if as_of < state.below_since + datetime.timedelta(days=policy.grace_days):
        state.save(update_fields=["reviewed_at", "below_since"])
        return None
    return _change_tier(state, rows[target.id] if target else None, reason=TierChangeReason.REVIEW_DOWN, at=as_of,
                        value=best_value)


def tier_review(*, as_of: datetime.datetime | None = None) -> dict[str, int]:
    """The scheduled review: upgrades the window supports, downgrades by the policy after grace.
    One member per transaction; running it twice on the same day changes nothing more."""
    as_of = as_of or timezone.now()
    policy = selectors.tier_policy()
    ladder, rows = selectors.tier_ladder(policy)
    if not ladder:
        return {"reviewed": 0, "up": 0, "down": 0}
    windows = tiers.review_windows(policy.window, policy.rolling_days, as_of, timezone.get_current_timezone())
    earliest = min(start for start, _end in windows)
    candidates = set(MemberTier.objects.filter(tier__isnull=False).values_list("member_id", flat=True))
    candidates |= set(Sale.objects.filter(sold_at__gte=earliest, sold_at__lte=as_of,
                                          member__status=MemberStatus.ACTIVE)
                      .values_list("member_id", flat=True).distinct())
    counts = {"reviewed": 0, "up": 0, "down": 0}
    for member_id in sorted(candidates):
        with transaction.atomic():
            change = _review_member(member_id, as_of=as_of, policy=policy, ladder=ladder, rows=rows)
        counts["reviewed"] += 1
        if change is not None:
            counts["up" if change.reason == TierChangeReason.REVIEW_UP else "down"] += 1
    return counts


@transaction.atomic
def tier_set(*, member: Member, tier: Tier | None, note: str, set_by, at: datetime.datetime | None = None,
             request=None) -> TierChange:
    """Set a member's level by hand (a VIP granted by the director): authorised roles, audited."""
    if not _may_adjust(set_by):
        raise PermissionDenied("only operations managers and administrators may set a level")
    if not note.strip():
        raise ValidationError({"note": "say why the level is set by hand"})
    at = at or timezone.now()
    state = _lock_member_tier(member.pk, at)
    change = _change_tier(state, tier, reason=TierChangeReason.MANUAL, at=at, note=note, by=set_by)
    audit_record(user=set_by, action=AuditAction.TIER_SET, target=member, request=request,
                 detail={"tier": tier.code if tier else None, "note": note})
    return change


# --- merging duplicates ----------------------------------------------------------------------------


def loyalty_merge_hook(*, keep: Member, duplicate: Member) -> dict:
    """Fold the duplicate's points and level into the kept member (runs inside member_merge).

    The duplicate's entries stay on its account as history; its lots and open holds move, and a
    merge-out / merge-in pair of entries carries the balances across, so both accounts still equal
    the sums of their own entries.
    """
    moved = {}
    at = timezone.now()
    if PointsAccount.objects.filter(member=duplicate).exists():
        accounts = _lock_accounts([keep, duplicate])
        kept, dup = accounts[keep.pk], accounts[duplicate.pk]
        key = f"merge:{dup.pk}"
        if not PointsEntry.objects.filter(account=dup, idempotency_key=key).exists():
            balance, pending = dup.balance, dup.pending
            lots = PointsLot.objects.filter(account=dup).update(account=kept)
            PointsHold.objects.filter(account=dup, status=HoldStatus.HELD).update(account=kept)
            _append(dup, kind=PointsEntryKind.MERGE_OUT, key=key, at=at, delta=-balance, pending_delta=-pending,
                    reason=f"merged into member {keep.pk}")
            _append(kept, kind=PointsEntryKind.MERGE_IN, key=key, at=at, delta=balance, pending_delta=pending,
                    reason=f"merged from member {duplicate.pk}")
            dup.merged_into = kept
            dup.save(update_fields=["merged_into"])
            moved["loyalty.pointslot"] = lots
    dup_state = MemberTier.objects.select_for_update().filter(member=duplicate).first()
    if dup_state is not None:
        state = _lock_member_tier(keep.pk, at)
        if dup_state.tier is not None and (state.tier is None or dup_state.tier.rank > state.tier.rank):
            _change_tier(state, dup_state.tier, reason=TierChangeReason.MERGE, at=at,
                         note=f"level of merged member {duplicate.pk}")
        dup_state.delete()  # the current level is a cache; the history (TierChange) moved with the member
    return moved
