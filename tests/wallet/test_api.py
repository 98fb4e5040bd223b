"""Loading a card at the till (POST /api/pos/wallet/top-ups): by plan or amount, once per
Idempotency-Key, attributed to the key's store; bad requests change nothing."""

import datetime
import itertools
import json

import pytest
from django.utils import timezone, translation
from ninja.testing import TestClient

from tests.loyalty.helpers import assert_ledgers_clean
from vipcare.api import api
from vipcare.org.services import api_key_issue
from vipcare.wallet.models import WalletAccount, WalletEntry

client = TestClient(api)
_keys = itertools.count(1)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def till(store):
    return api_key_issue(store=store, name="till 1")[1]


def top_up(body: dict, raw_key: str, *, key: str | None = "auto"):
    headers = {"Authorization": f"Bearer {raw_key}"}
    if key == "auto":
        key = f"top-up-{next(_keys)}"
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/pos/wallet/top-ups", data=json.dumps(body), content_type="application/json",
                       headers=headers)


def balance(member) -> tuple[int, int]:
    account = WalletAccount.objects.filter(member=member).first()
    return (account.principal_fen, account.bonus_fen) if account else (0, 0)


def test_top_up_by_plan_loads_principal_and_bonus_once_in_the_keys_store(member, store, till, plan):
    answer = top_up({"member": member.card_no, "plan_id": plan.pk}, till, key="k1")
    assert answer.status_code == 201, answer.json()
    assert answer.json() == {"entry_id": answer.json()["entry_id"], "card_no": member.card_no, "plan_id": plan.pk,
                             "paid_fen": 10000, "bonus_fen": 8000,
                             "balance": {"principal_fen": 10000, "bonus_fen": 8000, "total_fen": 18000}}
    assert WalletEntry.objects.get().store == store
    # the till lost the answer and sends it again: the same answer, nothing loaded twice
    again = top_up({"member": member.card_no, "plan_id": plan.pk}, till, key="k1")
    assert again.status_code == 201 and again.json() == answer.json() and again["Idempotent-Replayed"] == "true"
    assert balance(member) == (10000, 8000)
    assert_ledgers_clean()


def test_top_up_by_amount_by_phone(member, till):
    answer = top_up({"member": "138 1234 5678", "amount_fen": 5000}, till)
    assert answer.status_code == 201 and answer.json()["bonus_fen"] == 0
    assert balance(member) == (5000, 0)


@pytest.mark.parametrize("body, status, field", [
    ({"member": "nobody"}, 422, "__all__"),                                 # neither plan nor amount
    ({"member": "CARD", "plan_id": 1, "amount_fen": 100}, 422, "__all__"),  # both
    ({"member": "CARD", "amount_fen": 0}, 422, "amount_fen"),
    ({"member": "CARD", "amount_fen": -100}, 422, "amount_fen"),
    ({"member": "CARD", "plan_id": 999999}, 422, "plan_id"),
    ({"member": "0000", "amount_fen": 100}, 404, "member"),
])
def test_bad_top_ups_are_refused_and_load_nothing(member, till, plan, body, status, field):
    body = {k: (member.card_no if v == "CARD" else v) for k, v in body.items()}
    answer = top_up(body, till)
    assert answer.status_code == status, answer.json()
    assert field in answer.json()["errors"]
    assert not WalletEntry.objects.exists()


def test_a_plan_not_on_offer_today_is_refused(member, till, plan):
    plan.ends_on = timezone.localdate() - datetime.timedelta(days=1)
    plan.save()
    answer = top_up({"member": member.card_no, "plan_id": plan.pk}, till)
    assert answer.status_code == 422 and "plan" in answer.json()["errors"]
    assert not WalletEntry.objects.exists()


def test_a_top_up_needs_a_key_and_an_idempotency_key(member, till):
    assert top_up({"member": member.card_no, "amount_fen": 100}, "not-a-key").status_code == 401
    assert top_up({"member": member.card_no, "amount_fen": 100}, till, key=None).status_code in (400, 428)
    assert not WalletEntry.objects.exists()
