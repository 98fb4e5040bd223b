import pytest

from tests.loyalty import helpers  # noqa: F401  (registers the hypothesis profiles)
from vipcare.loyalty.models import PointsPolicy


@pytest.fixture
def policy(db) -> PointsPolicy:
    """The points policy, with the default rules: 1 point per yuan, lots lapse after 12 months."""
    return PointsPolicy.objects.get_or_create(pk=1)[0]
