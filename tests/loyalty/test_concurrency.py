"""Many tills spend from one points account at once, some retrying the same request: the account
ends exactly at what the accepted spends leave, and `check ledgers` finds nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from tests import factories
from tests.loyalty.helpers import run_concurrently
from vipcare.loyalty.models import PointsAccount, PointsEntry
from vipcare.loyalty.services import points_earn, points_hold, points_spend

THREADS = 8


@pytest.mark.django_db(transaction=True)
def test_points_spend_concurrent_with_retries_is_exact():
    # given 100 points and 8 tills each spending 15, two pairs of them with the same key (retries)
    member = factories.member(name="周杰")
    points_earn(member=member, points=100, idempotency_key="opening")
    keys = ["s0", "s1", "s2", "s3", "s0", "s1", "s6", "s7"]

    def spend(key):
        return lambda: points_spend(member=member, points=15, idempotency_key=key)

    # when they all go at once
    results = run_concurrently([spend(key) for key in keys])
    # then each distinct accepted key took its 15 points once, the rest were refused for lack of points
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, ValidationError)]
    assert not unexpected
    accepted = {r.idempotency_key for r in results if isinstance(r, PointsEntry)}
    spends = PointsEntry.objects.filter(kind="spend")
    assert sorted(spends.values_list("idempotency_key", flat=True)) == sorted(accepted)
    assert len(accepted) == 6  # six distinct keys, enough points for all of them (90 of 100)
    assert PointsAccount.objects.get(member=member).balance == 100 - 15 * len(accepted)
    call_command("check", "ledgers")


@pytest.mark.django_db(transaction=True)
def test_points_hold_and_spend_concurrent_never_overdraw():
    member = factories.member(name="周杰")
    points_earn(member=member, points=50, idempotency_key="opening")
    import datetime

    from django.utils import timezone

    later = timezone.now() + datetime.timedelta(minutes=5)
    jobs = [(lambda i=i: points_spend(member=member, points=20, idempotency_key=f"s{i}")) if i % 2 else
            (lambda i=i: points_hold(member=member, points=20, idempotency_key=f"h{i}", expires_at=later))
            for i in range(THREADS)]
    results = run_concurrently(jobs)
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, ValidationError)]
    accepted = [r for r in results if not isinstance(r, Exception)]
    assert len(accepted) == 2  # 2 × 20 of 50
    assert PointsAccount.objects.get(member=member).balance == 10
    call_command("check", "ledgers")
