"""Many tills pay from one stored-value card at once, some retrying: the card ends exactly at what
the accepted payments leave, never below zero, and `check ledgers` finds nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from tests import factories
from tests.loyalty.helpers import run_concurrently
from vipcare.wallet.models import TopUpPlan, WalletAccount, WalletEntry
from vipcare.wallet.services import wallet_pay, wallet_top_up


@pytest.mark.django_db(transaction=True)
def test_wallet_pay_concurrent_with_retries_is_exact():
    # given ¥180 on the card (pay ¥100, get ¥180) and 8 tills paying ¥30 each, two with repeated keys
    store = factories.store()
    member = factories.member(name="周杰")
    plan = TopUpPlan.objects.create(name="充100送80", pay_fen=10000, bonus_fen=8000)
    wallet_top_up(member=member, plan=plan, idempotency_key="t1", store=store)
    keys = ["p0", "p1", "p2", "p3", "p0", "p5", "p6", "p0"]
    jobs = [(lambda key=key: wallet_pay(member=member, amount_fen=3000, idempotency_key=key, store=store))
            for key in keys]
    # when
    results = run_concurrently(jobs)
    # then
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, ValidationError)]
    accepted = {r.idempotency_key for r in results if isinstance(r, WalletEntry)}
    assert len(accepted) == 6  # ¥180 covers all six distinct payments of ¥30
    assert WalletEntry.objects.filter(kind="pay").count() == len(accepted)
    account = WalletAccount.objects.get(member=member)
    assert account.balance_fen == 18000 - 3000 * len(accepted)
    call_command("check", "ledgers")


@pytest.mark.django_db(transaction=True)
def test_wallet_pay_concurrent_overdraw_is_refused_not_negative():
    store = factories.store()
    member = factories.member(name="周杰")
    wallet_top_up(member=member, pay_fen=10000, idempotency_key="t1", store=store)
    jobs = [(lambda i=i: wallet_pay(member=member, amount_fen=3000, idempotency_key=f"p{i}", store=store))
            for i in range(8)]
    results = run_concurrently(jobs)
    accepted = [r for r in results if isinstance(r, WalletEntry)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert (len(accepted), len(refused)) == (3, 5)
    assert WalletAccount.objects.get(member=member).balance_fen == 1000
    call_command("check", "ledgers")
