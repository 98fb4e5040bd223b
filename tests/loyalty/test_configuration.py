"""The programme's configuration kept in the process (vipcare.loyalty.configuration): an edit is
seen at once by this process, a rolled-back edit never, and an answer is not kept past its time."""

import threading
from types import SimpleNamespace

import pytest
from django.db import connection, transaction

from vipcare.loyalty import configuration, selectors
from vipcare.loyalty.models import PointsPolicy


def _in_thread(read):
    """`read()` in another thread (its own connection), as another request of the server would."""
    seen = []

    def run():
        try:
            seen.append(read())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    return seen[0]


@pytest.mark.django_db(transaction=True)
def test_a_saved_edit_is_seen_by_the_next_read_in_every_thread():
    assert _in_thread(lambda: selectors.points_policy().points_per_yuan) == 1  # now kept in the process
    policy = PointsPolicy.objects.get(pk=1)
    policy.points_per_yuan = 3
    policy.save()
    assert _in_thread(lambda: selectors.points_policy().points_per_yuan) == 3
    assert selectors.points_policy().points_per_yuan == 3


@pytest.mark.django_db(transaction=True)
def test_an_edit_inside_a_transaction_is_not_shared_before_commit_nor_after_rollback():
    assert selectors.points_policy().points_per_yuan == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        policy = PointsPolicy.objects.get(pk=1)
        policy.points_per_yuan = 5
        policy.save()
        assert selectors.points_policy().points_per_yuan == 5  # the writer sees its own edit
        assert _in_thread(lambda: selectors.points_policy().points_per_yuan) == 1  # the others do not
        raise RuntimeError("rolled back")
    assert selectors.points_policy().points_per_yuan == 1
    assert _in_thread(lambda: selectors.points_policy().points_per_yuan) == 1


@pytest.mark.django_db(transaction=True)
def test_an_edit_the_signals_cannot_see_is_read_again_after_its_time(monkeypatch):
    # given an answer kept in the process, and an edit that sends no signal (another process, an UPDATE)
    PointsPolicy.objects.get_or_create(pk=1)
    assert selectors.points_policy().points_per_yuan == 1
    PointsPolicy.objects.filter(pk=1).update(points_per_yuan=7)
    assert selectors.points_policy().points_per_yuan == 1  # still the kept answer
    # when its time is up
    monkeypatch.setattr(configuration, "time", SimpleNamespace(monotonic=lambda: float("inf")))
    # then the database is read again
    assert selectors.points_policy().points_per_yuan == 7
