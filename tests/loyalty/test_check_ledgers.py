import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.loyalty.helpers import at
from vipcare.loyalty.services import points_earn, points_spend
from vipcare.wallet.services import wallet_pay, wallet_top_up


def run_check() -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("check", "ledgers", stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def test_check_ledgers_passes_on_clean_ledgers(member, store, policy):
    points_earn(member=member, points=100, idempotency_key="e", at=at())
    points_spend(member=member, points=30, idempotency_key="s", at=at())
    wallet_top_up(member=member, pay_fen=10000, idempotency_key="t", store=store, at=at())
    wallet_pay(member=member, amount_fen=2500, idempotency_key="p", store=store, at=at())
    output, error = run_check()
    assert error is None
    assert "points: 1 accounts, 2 entries, 1 lots" in output and "ledgers OK" in output


def test_check_ledgers_finds_a_balance_changed_behind_the_ledgers_back(member, store, policy):
    # given clean ledgers, then raw SQL that changes the cached balances
    points_earn(member=member, points=100, idempotency_key="e", at=at())
    wallet_top_up(member=member, pay_fen=10000, idempotency_key="t", store=store, at=at())
    with connection.cursor() as cursor:
        cursor.execute("UPDATE loyalty_pointsaccount SET balance = balance + 5")
        cursor.execute("UPDATE wallet_walletaccount SET bonus_fen = 777")
        cursor.execute("UPDATE loyalty_pointslot SET remaining = remaining - 1")
    # when
    output, error = run_check()
    # then every violation is printed and the command fails with status 1
    assert error is not None and error.returncode == 1
    assert "balance != sum of entries: balance 105, entries sum to 100" in output
    assert "bonus_fen != sum of entries" in output
    assert "spendable lots != balance: lots hold 99, balance 105" in output
    assert "3 ledger violation(s) found" in str(error)


def test_check_without_ledgers_is_djangos_system_check(db):
    out = io.StringIO()
    call_command("check", stdout=out)
    assert "System check identified no issues" in out.getvalue()


@pytest.mark.parametrize("sql", ["UPDATE loyalty_pointsaccount SET balance = -1"])
def test_database_refuses_a_negative_balance(member, policy, sql):
    from django.db import IntegrityError, transaction

    points_earn(member=member, points=1, idempotency_key="e", at=at())
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
