import itertools
import json

import pytest
from django.utils import translation
from ninja.testing import TestClient

from tests import factories
from vipcare.api import api
from vipcare.core.models import IdempotencyRecord
from vipcare.loyalty.models import MemberTier, PointsAccount, PointsEntry, PointsHold, PointsLot, Tier, TierChange
from vipcare.loyalty.services import points_earn
from vipcare.offers.models import Coupon, CouponRedemption, CouponTemplate
from vipcare.org.services import api_key_issue
from vipcare.sales.models import Refund, RefundLine, Sale, SaleLine
from vipcare.till.models import Checkout, CheckoutRefund, TillHold
from vipcare.wallet.models import TopUpPlan, WalletAccount, WalletEntry, WalletHold
from vipcare.wallet.services import wallet_top_up

client = TestClient(api)
_keys = itertools.count(1)
TABLES = (Sale, SaleLine, Refund, RefundLine, IdempotencyRecord, PointsAccount, PointsEntry, PointsLot, PointsHold,
          WalletAccount, WalletEntry, WalletHold, Coupon, CouponRedemption, TierChange, MemberTier, Checkout,
          CheckoutRefund, TillHold)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):  # the messages are checked in English
        yield


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in TABLES}


def post(path: str, body, raw_key: str, *, key: str | None = "auto", **headers):
    headers = {"Authorization": f"Bearer {raw_key}", **headers}
    if key == "auto":
        key = f"till-test-{next(_keys)}"
    if key is not None:
        headers["Idempotency-Key"] = key
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(f"/pos/till{path}", data=data, content_type="application/json", headers=headers)


@pytest.fixture
def till(store):
    return api_key_issue(store=store, name="till 1")[1]


@pytest.fixture
def other_till(other_store):
    return api_key_issue(store=other_store, name="till 9")[1]


@pytest.fixture
def gold(db) -> Tier:
    return Tier.objects.get(code="gold")  # 5% off, points ×1.5, birthday +5%


@pytest.fixture
def rich(member, store, gold):
    """A gold member with 5,000 points and ¥1,000 + ¥800 bonus on the card."""
    from django.utils import timezone

    MemberTier.objects.create(member=member, tier=gold, since=timezone.now())
    points_earn(member=member, points=5000, idempotency_key="opening")
    plan = TopUpPlan.objects.create(name="充1000送800", pay_fen=100000, bonus_fen=80000)
    wallet_top_up(member=member, plan=plan, idempotency_key="top-up", store=store)
    return member


@pytest.fixture
def off50(db) -> CouponTemplate:
    row = CouponTemplate(code="off50", name="满300减50", kind="amount_off", amount_fen=5000, min_spend_fen=30000,
                         valid_days=30)
    row.full_clean()
    row.save()
    return row


def basket(who, **fields) -> dict:
    body = {"member": who.card_no,
            "lines": [{"brand": "E·LAND", "sku": "EL-1", "category": "dress", "unit_price_fen": 30000, "quantity": 1},
                      {"brand": "E·LAND", "sku": "EL-2", "category": "scarf", "unit_price_fen": 10000, "quantity": 1}]}
    body.update(fields)
    return body


def balances(member) -> tuple[int, int, int]:
    points = PointsAccount.objects.filter(member=member).values_list("balance", flat=True).first() or 0
    wallet = WalletAccount.objects.filter(member=member).values_list("principal_fen", "bonus_fen").first() or (0, 0)
    return points, *wallet


def factories_member(name: str):
    return factories.member(name=name)
