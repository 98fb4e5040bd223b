import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests import factories
from tests.loyalty.helpers import assert_ledgers_clean, at
from vipcare.core.models import AuditLogEntry
from vipcare.wallet.choices import WalletHoldStatus
from vipcare.wallet.models import TopUpPlan, WalletAccount, WalletEntry
from vipcare.wallet.selectors import LiabilityRow, wallet_liability
from vipcare.wallet.services import (
    wallet_capture,
    wallet_cash_out,
    wallet_hold,
    wallet_holds_release_expired,
    wallet_open,
    wallet_pay,
    wallet_refund_payment,
    wallet_release,
    wallet_top_up,
)


def balances(member) -> tuple[int, int]:
    account = WalletAccount.objects.get(member=member)
    return account.principal_fen, account.bonus_fen


def test_wallet_top_up_by_plan_keeps_principal_and_bonus_apart(member, store, plan):
    entry = wallet_top_up(member=member, plan=plan, idempotency_key="t1", store=store, at=at())
    assert (entry.principal_delta, entry.bonus_delta) == (10000, 8000)
    assert balances(member) == (10000, 8000)
    # a retry changes nothing
    assert wallet_top_up(member=member, plan=plan, idempotency_key="t1", store=store, at=at()).pk == entry.pk
    assert balances(member) == (10000, 8000)


def test_wallet_top_up_plan_outside_its_dates_is_refused(member, store):
    plan = TopUpPlan.objects.create(name="国庆", pay_fen=10000, bonus_fen=5000, starts_on=datetime.date(2026, 10, 1),
                                    ends_on=datetime.date(2026, 10, 7))
    with pytest.raises(ValidationError, match="not on offer"):
        wallet_top_up(member=member, plan=plan, idempotency_key="t1", store=store, at=at())


def test_wallet_pay_spends_principal_and_bonus_in_the_loaded_ratio(member, store, other_store, plan):
    wallet_top_up(member=member, plan=plan, idempotency_key="t1", store=store, at=at())
    # paying in another store works the same
    entry = wallet_pay(member=member, amount_fen=9000, idempotency_key="p1", store=other_store, at=at())
    assert (entry.principal_delta, entry.bonus_delta) == (-5000, -4000)
    assert balances(member) == (5000, 4000)
    with pytest.raises(ValidationError, match="not enough stored value"):
        wallet_pay(member=member, amount_fen=9001, idempotency_key="p2", store=store, at=at())
    assert_ledgers_clean()


def test_wallet_refund_payment_returns_to_the_balances_it_came_from(member, store, plan):
    wallet_top_up(member=member, plan=plan, idempotency_key="t1", store=store, at=at())
    payment = wallet_pay(member=member, amount_fen=9000, idempotency_key="p1", store=store, at=at())
    wallet_top_up(member=member, pay_fen=10000, idempotency_key="t2", store=store, at=at())  # ratio changes
    first = wallet_refund_payment(payment=payment, amount_fen=3000, idempotency_key="r1", at=at(1))
    assert (first.principal_delta, first.bonus_delta) == (1667, 1333)
    rest = wallet_refund_payment(payment=payment, amount_fen=6000, idempotency_key="r2", at=at(1))
    assert (first.principal_delta + rest.principal_delta, first.bonus_delta + rest.bonus_delta) == (5000, 4000)
    with pytest.raises(ValidationError, match="left to refund"):
        wallet_refund_payment(payment=payment, amount_fen=1, idempotency_key="r3", at=at(1))
    assert balances(member) == (20000, 8000)
    assert_ledgers_clean()


def test_wallet_cash_out_pays_principal_and_forfeits_bonus(member, store, plan, store_manager, cashier):
    wallet_top_up(member=member, plan=plan, idempotency_key="t1", store=store, at=at())
    wallet_pay(member=member, amount_fen=9000, idempotency_key="p1", store=store, at=at())
    with pytest.raises(PermissionDenied):
        wallet_cash_out(member=member, idempotency_key="c1", store=store, paid_by=cashier.user, reason="moving away")
    entry = wallet_cash_out(member=member, idempotency_key="c1", store=store, paid_by=store_manager.user,
                            reason="moving away", at=at(2))
    assert (entry.principal_delta, entry.bonus_delta) == (-5000, -4000)
    assert balances(member) == (0, 0)
    assert AuditLogEntry.objects.get(action="wallet_cash_out").detail["principal_fen"] == 5000
    assert_ledgers_clean()


def test_wallet_hold_capture_refund_and_release(member, store, plan):
    wallet_top_up(member=member, plan=plan, idempotency_key="t1", store=store, at=at())
    hold = wallet_hold(member=member, amount_fen=1800, idempotency_key="h1", expires_at=at(0, 1), store=store,
                       at=at())
    assert balances(member) == (9000, 7200)
    capture = wallet_capture(hold=hold, at=at(0, 0.5))
    assert wallet_capture(hold=hold, at=at(0, 0.5)).pk == capture.pk
    with pytest.raises(ValidationError):
        wallet_release(hold=hold, at=at(0, 0.5))
    # a captured hold is refunded like a payment
    wallet_refund_payment(payment=capture, amount_fen=1800, idempotency_key="r1", at=at(1))
    assert balances(member) == (10000, 8000)
    other = wallet_hold(member=member, amount_fen=900, idempotency_key="h2", expires_at=at(0, 1), store=store,
                        at=at())
    wallet_release(hold=other, at=at(0, 0.5))
    assert balances(member) == (10000, 8000)
    assert_ledgers_clean()


def test_wallet_holds_time_out_and_are_released(member, store, plan):
    wallet_top_up(member=member, plan=plan, idempotency_key="t1", store=store, at=at())
    hold = wallet_hold(member=member, amount_fen=1800, idempotency_key="h1", expires_at=at(0, 1), store=store,
                       at=at())
    assert wallet_holds_release_expired(now=at(0, 0.5)) == 0
    assert wallet_holds_release_expired(now=at(0, 1)) == 1
    hold.refresh_from_db()
    assert hold.status == WalletHoldStatus.RELEASED and balances(member) == (10000, 8000)
    with pytest.raises(ValidationError, match="released"):
        wallet_capture(hold=hold, at=at(0, 2))
    assert_ledgers_clean()


def test_wallet_liability_by_store_of_top_up_and_age(member, store, other_store, plan):
    # given a member who loaded ¥180 in one store 200 days ago and ¥100 in another 10 days ago
    wallet_top_up(member=member, plan=plan, idempotency_key="t1", store=store, at=at(-200))
    wallet_top_up(member=member, pay_fen=10000, idempotency_key="t2", store=other_store, at=at(-10))
    # and spent ¥150 since (oldest money first)
    wallet_pay(member=member, amount_fen=15000, idempotency_key="p1", store=store, at=at(-5))
    # when
    rows = wallet_liability(as_of=at())
    # then what is left (¥130: ¥92.85 principal and ¥37.15 bonus, paid pro rata) is attributed to the
    # newest top-ups first: the principal to the recent ¥100, the bonus to the old plan's top-up
    assert balances(member) == (9285, 3715)
    assert rows == [LiabilityRow(store_id=store.pk, age="181-365", principal_fen=0, bonus_fen=3715),
                    LiabilityRow(store_id=other_store.pk, age="0-90", principal_fen=9285, bonus_fen=0)]


def test_wallet_pay_for_a_merged_member_is_refused(member, store):
    duplicate = factories.member(name="李娜", phone="13900000000")
    from vipcare.members.services import member_merge

    member_merge(keep=member, duplicate=duplicate)
    duplicate.refresh_from_db()
    with pytest.raises(ValidationError, match="merged"):
        wallet_top_up(member=duplicate, pay_fen=100, idempotency_key="t", store=store)
    assert not WalletEntry.objects.exists()


def test_wallet_open_carries_principal_and_bonus_over_once(member, store, ops_manager, cashier):
    with pytest.raises(PermissionDenied):
        wallet_open(member=member, principal_fen=1000, bonus_fen=0, idempotency_key="o", opened_by=cashier.user,
                    reason="old card")
    for bad in ({"principal_fen": -1}, {"bonus_fen": 1.5}, {"principal_fen": 0, "bonus_fen": 0}, {"reason": ""}):
        with pytest.raises(ValidationError):
            wallet_open(**{"member": member, "principal_fen": 1000, "bonus_fen": 300, "idempotency_key": "o",
                           "opened_by": ops_manager.user, "reason": "old card", **bad})
    assert not WalletEntry.objects.exists()
    entry = wallet_open(member=member, principal_fen=1000, bonus_fen=300, idempotency_key="o", store=store,
                        opened_by=ops_manager.user, reason="old card", at=at())
    assert entry.kind == "opening" and balances(member) == (1000, 300)
    assert wallet_open(member=member, principal_fen=1000, bonus_fen=300, idempotency_key="o", store=store,
                       opened_by=ops_manager.user, reason="old card", at=at()).pk == entry.pk
    assert balances(member) == (1000, 300)
    # the carried-over balance is a liability of the store it is attributed to, aged from the day it came
    assert wallet_liability(as_of=at(10)) == [LiabilityRow(store_id=store.pk, age="0-90",
                                                           principal_fen=1000, bonus_fen=300)]
    assert_ledgers_clean()
