"""The refresh service and command: as-of cut, refunds, idempotence, atomic publication, bad input."""

import datetime
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests import factories
from tests.analytics.conftest import AS_OF, local
from vipcare.analytics import selectors
from vipcare.analytics.models import AnalyticsRefresh, MemberAnalytics
from vipcare.analytics.services import RefreshError, analytics_refresh
from vipcare.sales.models import Refund, RefundLine


@pytest.fixture
def shopper(member, store):
    """Three purchase days before AS_OF (one with two receipts), one after it, and a refund."""
    for day, amount in [(datetime.date(2026, 1, 10), 10000), (datetime.date(2026, 3, 5), 20000),
                        (datetime.date(2026, 3, 5), 5000), (datetime.date(2026, 6, 1), 40000),
                        (datetime.date(2026, 7, 2), 99900)]:
        factories.sale(member, store, amount, sold_at=local(day))
    return member


def test_refresh_counts_only_facts_up_to_the_as_of_day(shopper):
    refresh = analytics_refresh(as_of=AS_OF)
    row = MemberAnalytics.objects.get(refresh=refresh, member=shopper)
    assert row.visit_days == 3  # 2026-03-05 is one purchase day; 2026-07-02 is after the cut
    assert row.spend_fen == 75000
    assert row.recency_days == (AS_OF - datetime.date(2026, 6, 1)).days
    assert row.tenure_days == (AS_OF - datetime.date(2026, 1, 10)).days
    assert row.lifecycle == "active"


def test_refunds_reduce_spend_only_once_refunded(shopper):
    line = shopper.sales.get(sold_at=local(datetime.date(2026, 6, 1))).lines.get()
    refund = Refund.objects.create(sale=line.sale, store=line.store, member=shopper, refund_no="RF1",
                                   refunded_at=local(datetime.date(2026, 7, 5)), amount_fen=15000)
    RefundLine.objects.create(refund=refund, sale_line=line, quantity=1, amount_fen=15000)
    assert MemberAnalytics.objects.get(refresh=analytics_refresh(as_of=AS_OF), member=shopper).spend_fen == 75000
    later = datetime.date(2026, 7, 10)
    assert MemberAnalytics.objects.get(refresh=analytics_refresh(as_of=later), member=shopper).spend_fen \
        == 75000 + 99900 - 15000


def test_a_fully_refunded_day_is_not_a_purchase_day(shopper):
    line = shopper.sales.get(sold_at=local(datetime.date(2026, 6, 1))).lines.get()
    refund = Refund.objects.create(sale=line.sale, store=line.store, member=shopper, refund_no="RF2",
                                   refunded_at=local(datetime.date(2026, 6, 2)), amount_fen=40000)
    RefundLine.objects.create(refund=refund, sale_line=line, quantity=1, amount_fen=40000)
    row = MemberAnalytics.objects.get(refresh=analytics_refresh(as_of=AS_OF), member=shopper)
    assert (row.visit_days, row.spend_fen) == (2, 35000)


def test_refresh_of_the_same_day_replaces_the_earlier_one(mall):
    first = analytics_refresh(as_of=AS_OF)
    second = analytics_refresh(as_of=AS_OF)
    assert list(AnalyticsRefresh.objects.values_list("pk", flat=True)) == [second.pk]
    assert MemberAnalytics.objects.count() == len(mall) == second.member_count
    assert not MemberAnalytics.objects.filter(refresh_id=first.pk).exists()
    assert second.is_current


def test_current_pointer_follows_the_newest_day_and_back_tests_keep_it(mall):
    newer = analytics_refresh(as_of=AS_OF)
    older = analytics_refresh(as_of=AS_OF - datetime.timedelta(days=90))
    newer.refresh_from_db()
    older.refresh_from_db()
    assert newer.is_current and not older.is_current
    assert AnalyticsRefresh.objects.filter(is_current=True).count() == 1
    assert selectors.previous_refresh(newer) == older


def test_models_are_fitted_and_saved_with_the_refresh(mall):
    refresh = analytics_refresh(as_of=AS_OF)
    bgnbd, gamma_gamma = refresh.parameters["bgnbd"], refresh.parameters["gamma_gamma"]
    assert set(bgnbd) >= {"r", "alpha", "a", "b", "log_likelihood"} and bgnbd["log_likelihood"] < 0
    assert gamma_gamma["q"] > 1
    rows = MemberAnalytics.objects.filter(refresh=refresh)
    assert rows.filter(pyramid="A").count() >= 1
    assert {r.lifecycle for r in rows} >= {"active", "at_risk", "dormant"}
    buyer = rows.filter(visit_days__gte=3).first()
    assert 0 < buyer.p_alive <= 1 and buyer.clv_fen >= 0 and buyer.expected_365 >= buyer.expected_90


def test_latest_member_labels_shape(mall):
    assert selectors.latest_member_labels() == {}
    analytics_refresh(as_of=AS_OF)
    some = [m.pk for m in mall[:5]]
    labels = selectors.latest_member_labels(some)
    assert set(labels) == set(some)
    one = labels[some[0]]
    assert set(one) == {"lifecycle", "strategy", "pyramid", "matrix", "value_curve", "falling_off",
                        "falling_off_reason", "p_alive", "clv_fen", "rfm", "as_of"}
    assert isinstance(one["p_alive"], float) and isinstance(one["clv_fen"], int) and len(one["rfm"]) == 3
    assert one["as_of"] == AS_OF
    falling = [v for v in selectors.latest_member_labels().values() if v["falling_off"]]
    assert all(v["falling_off_reason"] for v in falling)


def test_bad_input_changes_nothing(mall):
    with pytest.raises(RefreshError, match="unknown engine"):
        analytics_refresh(as_of=AS_OF, engine="oracle")
    with pytest.raises(RefreshError, match="future"):
        analytics_refresh(as_of=timezone.localdate() + datetime.timedelta(days=1))
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("analytics", "refresh", "--as-of", "30/06/2026")
    with pytest.raises(CommandError, match="unknown engine"):
        call_command("analytics", "refresh", "--engine", "hive")
    assert not AnalyticsRefresh.objects.exists() and not MemberAnalytics.objects.exists()


def test_command_prints_fitted_parameters_as_json(mall):
    out = io.StringIO()
    call_command("analytics", "refresh", "--as-of", AS_OF.isoformat(), "--json", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["as_of"] == AS_OF.isoformat() and printed["members"] == len(mall)
    assert printed["parameters"]["bgnbd"]["log_likelihood"] < 0 and "gamma_gamma" in printed["parameters"]
