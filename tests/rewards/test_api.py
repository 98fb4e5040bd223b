"""The rewards endpoints of the POS API: redeem by card and reward code with an Idempotency-Key,
replayed retries, specific refusals that change nothing, cancel by the redeeming store only."""

import itertools
import json

import pytest
from django.utils import timezone, translation
from ninja.testing import TestClient

from tests.rewards.conftest import state
from vipcare.api import api
from vipcare.loyalty.services import points_earn
from vipcare.org.services import api_key_issue
from vipcare.rewards.models import Redemption, Reward

client = TestClient(api)
_keys = itertools.count(1)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def till(store):
    return api_key_issue(store=store, name="service desk")[1]


@pytest.fixture
def other_till(other_store):
    return api_key_issue(store=other_store, name="till 9")[1]


@pytest.fixture
def rich(member):
    points_earn(member=member, points=2000, idempotency_key="opening", at=timezone.now())
    return member


def post(path: str, body: dict, raw_key: str, *, key: str | None = "auto"):
    headers = {"Authorization": f"Bearer {raw_key}"}
    if key == "auto":
        key = f"rewards-test-{next(_keys)}"
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(f"/pos/rewards{path}", data=json.dumps(body), content_type="application/json",
                       headers=headers)


def test_redeem_by_card_and_reward_code_and_a_retry_replays(till, rich, umbrella):
    body = {"member": rich.card_no, "reward": "umbrella"}
    first = post("/redemptions", body, till, key="r-1")
    assert first.status_code == 201, first.json()
    data = first.json()
    assert data["status"] == "handed_over" and data["points"] == 800 and data["points_balance"] == 1200
    assert data["store_code"] == "F101" and data["card_no"] == rich.card_no
    again = post("/redemptions", body, till, key="r-1")
    assert again.status_code == 201 and again.json() == data and again["Idempotent-Replayed"] == "true"
    assert Redemption.objects.count() == 1 and Reward.objects.get().stock == 2


def test_redeem_by_phone_waiting_then_cancel_gives_points_and_stock_back(till, rich, umbrella):
    redeemed = post("/redemptions", {"member": "138 1234 5678", "reward": "umbrella", "hand_over": False}, till)
    assert redeemed.status_code == 201 and redeemed.json()["status"] == "redeemed"
    redemption_id = redeemed.json()["id"]
    cancelled = post(f"/redemptions/{redemption_id}/cancel", {"reason": "顾客不要了"}, till)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["points_balance"] == 2000
    assert Reward.objects.get().stock == 3


def test_hand_over_a_waiting_gift(till, rich, umbrella):
    redeemed = post("/redemptions", {"member": rich.card_no, "reward": "umbrella", "hand_over": False}, till)
    done = post(f"/redemptions/{redeemed.json()['id']}/hand-over", {}, till)
    assert done.status_code == 200 and done.json()["status"] == "handed_over"
    refused = post(f"/redemptions/{redeemed.json()['id']}/cancel", {"reason": "late"}, till)
    assert refused.status_code == 409 and refused.json()["code"] == "already_handed_over"


@pytest.mark.parametrize("case, status, code", [
    ("unknown_member", 404, "member_not_found"), ("unknown_reward", 404, "reward_not_found"),
    ("points", 409, "insufficient_points"), ("stock", 409, "out_of_stock"), ("inactive", 409, "reward_inactive"),
    ("store", 403, "wrong_store"), ("limit", 409, "over_limit"),
])
def test_refusals_are_specific_and_change_nothing(case, status, code, till, rich, umbrella, other_store):
    body = {"member": rich.card_no, "reward": "umbrella"}
    if case == "unknown_member":
        body["member"] = "000000000000"
    elif case == "unknown_reward":
        body["reward"] = "no-such-gift"
    elif case == "points":
        Reward.objects.filter(pk=umbrella.pk).update(points=2500)
    elif case == "stock":
        Reward.objects.filter(pk=umbrella.pk).update(stock=0)
    elif case == "inactive":
        Reward.objects.filter(pk=umbrella.pk).update(is_active=False)
    elif case == "store":
        umbrella.stores.set([other_store])
    elif case == "limit":
        Reward.objects.filter(pk=umbrella.pk).update(per_member_limit=1)
        assert post("/redemptions", body, till).status_code == 201
    before = state()
    response = post("/redemptions", body, till, key="refused-1")
    assert response.status_code == status, response.json()
    assert response.json()["code"] == code and response.json()["errors"]
    assert state() == before
    # a refusal does not use the key up: the corrected request may use it
    if case == "points":
        Reward.objects.filter(pk=umbrella.pk).update(points=800)
        assert post("/redemptions", body, till, key="refused-1").status_code == 201


def test_redeem_needs_an_idempotency_key_and_a_well_formed_body(till, rich, umbrella):
    missing = post("/redemptions", {"member": rich.card_no, "reward": "umbrella"}, till, key=None)
    assert missing.status_code == 400 and "Idempotency-Key" in missing.json()["errors"]
    malformed = post("/redemptions", {"member": rich.card_no}, till)
    assert malformed.status_code == 422 and "reward" in malformed.json()["errors"]
    assert not Redemption.objects.exists()


def test_only_the_redeeming_store_may_cancel(till, other_till, rich, umbrella):
    redeemed = post("/redemptions", {"member": rich.card_no, "reward": "umbrella", "hand_over": False}, till)
    refused = post(f"/redemptions/{redeemed.json()['id']}/cancel", {"reason": "x"}, other_till)
    assert refused.status_code == 403 and refused.json()["code"] == "wrong_store"
    assert post("/redemptions/999999/cancel", {"reason": "x"}, till).json()["code"] == "redemption_not_found"
    assert Redemption.objects.get().status == "redeemed"


def test_available_lists_rewards_with_the_reason_some_cannot_be_redeemed(till, rich, umbrella, other_store):
    Reward.objects.create(code="tea", name="双人下午茶", points=5000, stock=2)
    elsewhere = Reward.objects.create(code="spa", name="护理体验", points=100, stock=2)
    elsewhere.stores.set([other_store])
    response = post("/available", {"member": rich.card_no}, till, key=None)
    assert response.status_code == 200
    data = response.json()
    assert data["points"] == 2000
    rows = {row["code"]: (row["redeemable"], row["why_not"]) for row in data["rewards"]}
    assert rows == {"spa": (False, "not handed out in this store"), "umbrella": (True, ""),
                    "tea": (False, "3,000 more points needed")}
    assert post("/available", {"member": "nobody"}, till, key=None).status_code == 404
