"""Any sequence of top-ups, payments, refunds, holds, captures, releases, time-outs, cash-outs and
retries keeps the stored-value ledger exact: balances = sum of entries = the accepted operations,
never negative, and a retried request changes nothing."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from tests.loyalty.helpers import LEDGER_SETTINGS, assert_ledgers_clean, at, rolled_back
from vipcare.wallet.models import TopUpPlan, WalletAccount, WalletEntry, WalletHold
from vipcare.wallet.services import (
    wallet_capture,
    wallet_cash_out,
    wallet_hold,
    wallet_holds_release_expired,
    wallet_pay,
    wallet_refund_payment,
    wallet_release,
    wallet_top_up,
)

keys = st.sampled_from(["k1", "k2", "k3", "k4", "k5"])
operations = st.lists(st.one_of(
    st.tuples(st.just("advance"), st.integers(0, 48)),
    st.tuples(st.just("top_up"), st.sampled_from([None, 0, 1]), st.integers(1, 50000), keys),
    st.tuples(st.just("pay"), st.integers(1, 30000), keys),
    st.tuples(st.just("refund"), st.integers(0, 9), st.integers(1, 30000), keys),
    st.tuples(st.just("hold"), st.integers(1, 30000), keys, st.integers(1, 24)),
    st.tuples(st.just("capture"), st.integers(0, 9)),
    st.tuples(st.just("release"), st.integers(0, 9)),
    st.tuples(st.just("release_expired")),
    st.tuples(st.just("cash_out"), keys),
), max_size=25)


@pytest.fixture
def plans(db) -> list[TopUpPlan]:
    return [TopUpPlan.objects.create(name="充100送80", pay_fen=10000, bonus_fen=8000),
            TopUpPlan.objects.create(name="充1000送300", pay_fen=100000, bonus_fen=30000)]


def snapshot(member) -> tuple:
    account = WalletAccount.objects.filter(member=member).first()
    return (account and (account.principal_fen, account.bonus_fen), WalletEntry.objects.count(),
            tuple(WalletHold.objects.order_by("pk").values_list("status", flat=True)))


def total(member) -> int:
    account = WalletAccount.objects.filter(member=member).first()
    return account.balance_fen if account else 0


@LEDGER_SETTINGS
@given(ops=operations)
def test_wallet_ledger_invariants_hold_for_any_sequence(member, store, plans, store_manager, ops):
    with rolled_back():
        now, payments, holds, used = at(), [], [], {}
        expected = 0  # the card's value according to the operations accepted so far
        for op in ops:
            before = snapshot(member)
            kind = op[0]
            key = next((part for part in op[1:] if isinstance(part, str)), None)
            retry = key is not None and used.get(key) == kind
            ran = True  # False when the operation had nothing to act on (a refund before any payment)
            try:
                if kind == "advance":
                    now += datetime.timedelta(hours=op[1])
                elif kind == "top_up":
                    plan = plans[op[1]] if op[1] is not None else None
                    entry = wallet_top_up(member=member, plan=plan, pay_fen=None if plan else op[2],
                                          idempotency_key=key, store=store, at=now)
                    expected += 0 if retry else entry.principal_delta + entry.bonus_delta
                elif kind == "pay":
                    entry = wallet_pay(member=member, amount_fen=op[1], idempotency_key=key, store=store, at=now)
                    if not retry:
                        expected -= op[1]
                        payments.append(entry)
                elif kind == "refund" and payments:
                    entry = wallet_refund_payment(payment=payments[op[1] % len(payments)], amount_fen=op[2],
                                                  idempotency_key=key, at=now)
                    expected += 0 if retry else op[2]
                elif kind == "hold":
                    hold = wallet_hold(member=member, amount_fen=op[1], idempotency_key=key, store=store, at=now,
                                       expires_at=now + datetime.timedelta(hours=op[3]))
                    if not retry:
                        expected -= op[1]
                        holds.append(hold)
                elif kind == "capture" and holds:
                    hold = holds[op[1] % len(holds)]
                    payments.append(wallet_capture(hold=hold, at=now))
                elif kind == "release" and holds:
                    hold = holds[op[1] % len(holds)]
                    released_before = WalletHold.objects.get(pk=hold.pk).status == "released"
                    wallet_release(hold=hold, at=now)
                    expected += 0 if released_before else hold.amount_fen
                elif kind == "release_expired":
                    due = list(WalletHold.objects.filter(status="held", expires_at__lte=now))
                    wallet_holds_release_expired(now=now)
                    expected += sum(h.amount_fen for h in due)
                elif kind == "cash_out":
                    wallet_cash_out(member=member, idempotency_key=key, store=store, paid_by=store_manager.user,
                                    reason="closing the card", at=now)
                    expected = expected if retry else 0
                else:
                    ran = False
                if retry:
                    assert snapshot(member) == before
                if key is not None and ran:
                    used[key] = kind
            except ValidationError:
                assert snapshot(member) == before
            assert total(member) == expected
            assert_ledgers_clean()
