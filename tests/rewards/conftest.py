import datetime

import pytest

from tests.loyalty import helpers  # noqa: F401  (registers the hypothesis profiles)
from vipcare.loyalty.models import PointsAccount, PointsEntry, PointsHold, PointsLot
from vipcare.loyalty.services import points_earn
from vipcare.offers.models import Coupon
from vipcare.rewards.models import Redemption, Reward

T0 = datetime.datetime(2026, 3, 2, 3, 0, tzinfo=datetime.UTC)  # 11:00 in Shanghai
TABLES = (Redemption, PointsEntry, PointsLot, PointsHold, Coupon)


def at(days: float = 0, hours: float = 0) -> datetime.datetime:
    return T0 + datetime.timedelta(days=days, hours=hours)


def state() -> dict:
    """Everything a redemption could change: stock, points, the rows of each table."""
    return {"stock": dict(Reward.objects.values_list("code", "stock")),
            "points": dict(PointsAccount.objects.values_list("member_id", "balance")),
            **{model.__name__: model.objects.count() for model in TABLES}}


@pytest.fixture
def umbrella(db) -> Reward:
    """A gift: 800 points, 3 in stock."""
    return Reward.objects.create(code="umbrella", name="晴雨伞", points=800, stock=3)


@pytest.fixture
def with_points(member):
    """The member with 2,000 points earned at T0."""
    points_earn(member=member, points=2000, idempotency_key="opening", at=T0)
    return member
