"""The only code that changes stored value.

Same pattern as the points ledger (docs/adr/0003-ledgers.md): one transaction, the account row
locked, an earlier entry with the same idempotency key returned as is, checks, one appended
entry, the cached balances updated. Balances never go below zero (checked here and by the
database).
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from vipcare.core import ledgers
from vipcare.core.audit import audit_record
from vipcare.core.ledgers import entry_for_key, lock_member_accounts
from vipcare.core.models import AuditAction
from vipcare.members.choices import MemberStatus
from vipcare.members.models import Member
from vipcare.org.choices import Role
from vipcare.org.models import Store
from vipcare.org.selectors import user_has_role
from vipcare.sales.models import Sale
from vipcare.wallet import rules
from vipcare.wallet.choices import WalletEntryKind, WalletHoldStatus
from vipcare.wallet.models import TopUpPlan, WalletAccount, WalletEntry, WalletHold

# Who may pay out a member's unused principal.
CASH_OUT_ROLES = {Role.ADMIN, Role.OPERATIONS_MANAGER, Role.STORE_MANAGER}


def _lock_accounts(members: list[Member]) -> dict[int, WalletAccount]:
    return lock_member_accounts(WalletAccount, [m.pk for m in members])


def _lock_account(member: Member) -> WalletAccount:
    return _lock_accounts([member])[member.pk]


def _replay(account: WalletAccount, key: str, kind: str) -> WalletEntry | None:
    return entry_for_key(WalletEntry, account, key, kind)


def _append(account: WalletAccount, *, kind: str, key: str, at: datetime.datetime, principal: int = 0,
            bonus: int = 0, **fields) -> WalletEntry:
    account.principal_fen += principal
    account.bonus_fen += bonus
    if account.principal_fen < 0 or account.bonus_fen < 0:
        raise ValidationError({"amount_fen": "not enough stored value"})
    # plain SQL (core.ledgers): a payment at the till is on the checkout's hot path
    entry = ledgers.insert(
        WalletEntry, account=account, kind=kind, principal_delta=principal, bonus_delta=bonus,
        principal_after=account.principal_fen, bonus_after=account.bonus_fen, idempotency_key=key, created_at=at,
        **fields,
    )
    ledgers.execute(_SET_BALANCE, [account.principal_fen, account.bonus_fen, account.pk])
    return entry


_SET_BALANCE = "UPDATE wallet_walletaccount SET principal_fen = %s, bonus_fen = %s WHERE id = %s"


def _check_amount(amount_fen: int) -> None:
    if not isinstance(amount_fen, int) or amount_fen <= 0:
        raise ValidationError({"amount_fen": "must be a whole number of fen above zero"})


def _check_member(member: Member) -> None:
    if member.status != MemberStatus.ACTIVE:
        raise ValidationError({"member": "this card was merged into another member; use that member"})


def _take(account: WalletAccount, amount_fen: int) -> tuple[int, int]:
    if amount_fen > account.balance_fen:
        raise ValidationError({"amount_fen": f"not enough stored value: {account.balance_fen} fen available"})
    return rules.split_payment(amount_fen, account.principal_fen, account.bonus_fen)


@transaction.atomic
def wallet_top_up(*, member: Member, idempotency_key: str, store: Store, plan: TopUpPlan | None = None,
                  pay_fen: int | None = None, at: datetime.datetime | None = None, created_by=None) -> WalletEntry:
    """Load the card: by a plan (its pay and bonus) or a plain amount without bonus."""
    at = at or timezone.now()
    if plan is not None:
        if not plan.runs_on(timezone.localdate(at)):
            raise ValidationError({"plan": "this top-up plan is not on offer today"})
        pay, bonus = plan.pay_fen, plan.bonus_fen
    else:
        _check_amount(pay_fen)
        pay, bonus = pay_fen, 0
    account = _lock_account(member)
    if (done := _replay(account, idempotency_key, WalletEntryKind.TOP_UP)) is not None:
        return done
    _check_member(member)
    return _append(account, kind=WalletEntryKind.TOP_UP, key=idempotency_key, at=at, principal=pay, bonus=bonus,
                   store=store, plan=plan, created_by=created_by)


# Who may carry stored value over from an old card system.
OPEN_ROLES = {Role.ADMIN, Role.OPERATIONS_MANAGER}


@transaction.atomic
def wallet_open(*, member: Member, principal_fen: int, bonus_fen: int, idempotency_key: str, opened_by, reason: str,
                store: Store | None = None, at: datetime.datetime | None = None) -> WalletEntry:
    """Carry a member's stored value over from an old card system, principal and bonus kept apart
    (a top-up's bonus otherwise comes only from a plan). Authorised roles only."""
    if not user_has_role(opened_by, OPEN_ROLES):
        raise PermissionDenied("only operations managers and administrators may carry stored value over")
    if not reason.strip():
        raise ValidationError({"reason": "say where the balance comes from"})
    for field, amount in (("principal_fen", principal_fen), ("bonus_fen", bonus_fen)):
        if not isinstance(amount, int) or amount < 0:
            raise ValidationError({field: "must be a whole number of fen, zero or more"})
    if not principal_fen and not bonus_fen:
        raise ValidationError({"principal_fen": "nothing to carry over"})
    at = at or timezone.now()
    account = _lock_account(member)
    if (done := _replay(account, idempotency_key, WalletEntryKind.OPENING)) is not None:
        return done
    _check_member(member)
    return _append(account, kind=WalletEntryKind.OPENING, key=idempotency_key, at=at, principal=principal_fen,
                   bonus=bonus_fen, store=store or member.home_store, reason=reason[:200], created_by=opened_by)


@ledgers.atomic
def wallet_pay(*, member: Member, amount_fen: int, idempotency_key: str, store: Store, sale: Sale | None = None,
               at: datetime.datetime | None = None, created_by=None) -> WalletEntry:
    """Pay with the card in any store: principal and bonus pro rata to the balances (rules.py)."""
    _check_amount(amount_fen)
    at = at or timezone.now()
    account = _lock_account(member)
    if (done := _replay(account, idempotency_key, WalletEntryKind.PAY)) is not None:
        return done
    _check_member(member)
    principal, bonus = _take(account, amount_fen)
    return _append(account, kind=WalletEntryKind.PAY, key=idempotency_key, at=at, principal=-principal, bonus=-bonus,
                   store=store, sale=sale, created_by=created_by)


def _paid_split(payment: WalletEntry) -> tuple[int, int]:
    if payment.kind == WalletEntryKind.PAY:
        return -payment.principal_delta, -payment.bonus_delta
    if payment.kind == WalletEntryKind.CAPTURE:
        return payment.hold.principal_fen, payment.hold.bonus_fen
    raise ValidationError({"payment": "only a payment can be refunded to the card"})


@transaction.atomic
def wallet_refund_payment(*, payment: WalletEntry, amount_fen: int, idempotency_key: str,
                          at: datetime.datetime | None = None, store: Store | None = None,
                          created_by=None) -> WalletEntry:
    """Give (part of) a card payment back to the balances it came from, in proportion."""
    _check_amount(amount_fen)
    at = at or timezone.now()
    account = WalletAccount.objects.select_for_update().get(
        pk=WalletEntry.objects.values_list("account_id", flat=True).get(pk=payment.pk))
    while account.merged_into_id is not None:  # the member was merged: the money lives on the kept card
        account = WalletAccount.objects.select_for_update().get(pk=account.merged_into_id)
    if (done := _replay(account, idempotency_key, WalletEntryKind.REFUND_TO_BALANCE)) is not None:
        return done
    paid_principal, paid_bonus = _paid_split(payment)
    before = WalletEntry.objects.filter(reverses=payment).aggregate(
        p=Sum("principal_delta", default=0), b=Sum("bonus_delta", default=0))
    refunded_before = before["p"] + before["b"]
    if refunded_before + amount_fen > paid_principal + paid_bonus:
        left = paid_principal + paid_bonus - refunded_before
        raise ValidationError({"amount_fen": f"only {left} fen of this payment is left to refund"})
    principal, bonus = rules.split_refund(paid_principal, paid_bonus, refunded_before, amount_fen)
    return _append(account, kind=WalletEntryKind.REFUND_TO_BALANCE, key=idempotency_key, at=at, principal=principal,
                   bonus=bonus, reverses=payment, sale_id=payment.sale_id, store=store or payment.store,
                   created_by=created_by)


def _may_cash_out(user) -> bool:
    return user_has_role(user, CASH_OUT_ROLES)


@transaction.atomic
def wallet_cash_out(*, member: Member, idempotency_key: str, store: Store, paid_by, reason: str,
                    at: datetime.datetime | None = None, request=None) -> WalletEntry:
    """Close the card's stored value: the unused principal is paid back to the member and the
    bonus is forfeited (it was a gift for loading the card, not the member's money)."""
    if not _may_cash_out(paid_by):
        raise PermissionDenied("only store managers, operations managers and administrators may pay out stored value")
    if not reason.strip():
        raise ValidationError({"reason": "say why the stored value is paid out"})
    at = at or timezone.now()
    account = _lock_account(member)
    if (done := _replay(account, idempotency_key, WalletEntryKind.REFUND_PRINCIPAL_CASHOUT)) is not None:
        return done
    _check_member(member)
    if account.principal_fen == 0:
        raise ValidationError({"member": "there is no principal left to pay out"})
    if WalletHold.objects.filter(account=account, status=WalletHoldStatus.HELD).exists():
        raise ValidationError({"member": "a payment with this card is in progress; capture or release it first"})
    entry = _append(account, kind=WalletEntryKind.REFUND_PRINCIPAL_CASHOUT, key=idempotency_key, at=at,
                    principal=-account.principal_fen, bonus=-account.bonus_fen, store=store, reason=reason,
                    created_by=paid_by)
    audit_record(user=paid_by, action=AuditAction.WALLET_CASH_OUT, target=member, request=request,
                 detail={"principal_fen": -entry.principal_delta, "bonus_forfeited_fen": -entry.bonus_delta,
                         "reason": reason, "entry_id": entry.pk})
    return entry


@transaction.atomic
def wallet_hold(*, member: Member, amount_fen: int, idempotency_key: str, expires_at: datetime.datetime,
                store: Store, at: datetime.datetime | None = None) -> WalletHold:
    """Set stored value aside for a payment that is not final yet (split as a payment would be)."""
    _check_amount(amount_fen)
    at = at or timezone.now()
    if expires_at <= at:
        raise ValidationError({"expires_at": "must be in the future"})
    account = _lock_account(member)
    if (done := _replay(account, idempotency_key, WalletEntryKind.HOLD)) is not None:
        return done.hold
    _check_member(member)
    principal, bonus = _take(account, amount_fen)
    hold = WalletHold.objects.create(account=account, principal_fen=principal, bonus_fen=bonus, expires_at=expires_at,
                                     store=store, created_at=at)
    _append(account, kind=WalletEntryKind.HOLD, key=idempotency_key, at=at, principal=-principal, bonus=-bonus,
            hold=hold, store=store)
    return hold


def _locked_hold(hold: WalletHold) -> tuple[WalletAccount, WalletHold]:
    account = WalletAccount.objects.select_for_update().get(
        pk=WalletHold.objects.values_list("account_id", flat=True).get(pk=hold.pk))
    return account, WalletHold.objects.get(pk=hold.pk)


@ledgers.atomic
def wallet_capture(*, hold: WalletHold, at: datetime.datetime | None = None, sale: Sale | None = None) -> WalletEntry:
    """Make a hold a payment; the money already left the balances when it was held."""
    at = at or timezone.now()
    account, hold = _locked_hold(hold)
    key = f"capture:{hold.pk}"
    if (done := _replay(account, key, WalletEntryKind.CAPTURE)) is not None:
        return done
    if hold.status != WalletHoldStatus.HELD:
        raise ValidationError({"hold": "this hold was released; hold the amount again"})
    if hold.expires_at <= at:
        raise ValidationError({"hold": "this hold has expired; hold the amount again"})
    hold.status, hold.settled_at = WalletHoldStatus.CAPTURED, at
    hold.save(update_fields=["status", "settled_at"])
    return _append(account, kind=WalletEntryKind.CAPTURE, key=key, at=at, hold=hold, sale=sale, store=hold.store)


@transaction.atomic
def wallet_release(*, hold: WalletHold, at: datetime.datetime | None = None) -> WalletEntry:
    """Give a held amount back to the principal and bonus it came from."""
    at = at or timezone.now()
    account, hold = _locked_hold(hold)
    key = f"release:{hold.pk}"
    if (done := _replay(account, key, WalletEntryKind.RELEASE)) is not None:
        return done
    if hold.status != WalletHoldStatus.HELD:
        raise ValidationError({"hold": "this hold was captured and cannot be released; refund it instead"})
    hold.status, hold.settled_at = WalletHoldStatus.RELEASED, at
    hold.save(update_fields=["status", "settled_at"])
    return _append(account, kind=WalletEntryKind.RELEASE, key=key, at=at, principal=hold.principal_fen,
                   bonus=hold.bonus_fen, hold=hold, store=hold.store)


def wallet_holds_release_expired(*, now: datetime.datetime | None = None) -> int:
    """Release every hold whose time is up (a till that never came back). Returns how many."""
    now = now or timezone.now()
    released = 0
    for hold in WalletHold.objects.filter(status=WalletHoldStatus.HELD, expires_at__lte=now).order_by("pk"):
        try:
            wallet_release(hold=hold, at=now)
            released += 1
        except ValidationError:  # captured meanwhile
            continue
    return released


def wallet_merge_hook(*, keep: Member, duplicate: Member) -> dict:
    """Fold the duplicate's stored value into the kept member (runs inside member_merge): a
    merge-out / merge-in pair carries principal and bonus across; open holds move with it."""
    if not WalletAccount.objects.filter(member=duplicate).exists():
        return {}
    accounts = _lock_accounts([keep, duplicate])
    kept, dup = accounts[keep.pk], accounts[duplicate.pk]
    key = f"merge:{dup.pk}"
    if WalletEntry.objects.filter(account=dup, idempotency_key=key).exists():
        return {}
    at = timezone.now()
    principal, bonus = dup.principal_fen, dup.bonus_fen
    holds = WalletHold.objects.filter(account=dup, status=WalletHoldStatus.HELD).update(account=kept)
    _append(dup, kind=WalletEntryKind.MERGE_OUT, key=key, at=at, principal=-principal, bonus=-bonus,
            reason=f"merged into member {keep.pk}")
    _append(kept, kind=WalletEntryKind.MERGE_IN, key=key, at=at, principal=principal, bonus=bonus,
            reason=f"merged from member {duplicate.pk}")
    dup.merged_into = kept
    dup.save(update_fields=["merged_into"])
    return {"wallet.walletaccount": 1, "wallet.wallethold": holds}
