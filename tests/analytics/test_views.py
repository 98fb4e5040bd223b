"""The dashboard, the member lists behind its cells, the Excel export and the member 360 panel."""

import io

import openpyxl
import pytest
from django.urls import reverse

from tests import factories
from tests.analytics.conftest import AS_OF
from vipcare.analytics.models import MemberAnalytics
from vipcare.analytics.services import analytics_refresh
from vipcare.core.models import AuditAction, AuditLogEntry


@pytest.fixture
def refreshed(mall):
    analytics_refresh(as_of=AS_OF.replace(month=3))
    return analytics_refresh(as_of=AS_OF)


def test_dashboard_shows_every_model(client, ops_manager, refreshed):
    client.force_login(ops_manager.user)
    response = client.get(reverse("analytics:dashboard"))
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("知己", "藤壶", "蝴蝶", "过客", "明星", "现金", "问题", "瘦狗", "深度关爱", "长期培育", "白金",
                 "chart-pareto", "chart-clv", "echarts.simple.min.js"):
        assert text in page
    f = response.context["f"]
    assert f["members"] == refreshed.member_count
    assert sum(c["n"] for c in f["pyramid"]) == f["members"]
    assert 0 < f["top20_share"] <= 1 and f["pareto"][-1] == [100, 100.0]
    assert f["flows"]["lifecycle"], "moves between the March and June refreshes"
    assert sum(b["n"] for b in f["clv_histogram"]) == f["members"]


def test_dashboard_is_for_managers_only(client, cashier, refreshed):
    client.force_login(cashier.user)
    assert client.get(reverse("analytics:dashboard")).status_code == 403


def test_store_manager_sees_only_members_of_their_stores(client, store_manager, refreshed):
    client.force_login(store_manager.user)
    response = client.get(reverse("analytics:dashboard"))
    assert response.status_code == 200 and response.context["f"]["members"] == 0  # the mall's stores are others


def test_cell_lists_its_members_and_exports_them_masked_and_audited(client, ops_manager, refreshed, store):
    rows = MemberAnalytics.objects.filter(refresh=refreshed, matrix="confidant")
    member = rows.first().member
    member.phone = "13912345678"
    member.save()
    client.force_login(ops_manager.user)
    query = {"refresh": refreshed.pk, "matrix": "confidant"}
    response = client.get(reverse("analytics:member_list"), query)
    assert response.status_code == 200 and response.context["page"].paginator.count == rows.count()
    export = client.get(reverse("analytics:member_export"), query)
    assert export.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    values = [row for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(values) == rows.count()
    phones = {row[2] for row in values}
    assert "13912345678" not in phones and "139****5678" in phones
    entry = AuditLogEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.user == ops_manager.user and entry.detail["rows"] == rows.count()
    assert entry.detail["filters"] == {"matrix": "confidant"}


def test_unknown_filter_is_a_404(client, ops_manager, refreshed):
    client.force_login(ops_manager.user)
    assert client.get(reverse("analytics:member_list"), {"password": "x"}).status_code == 404
    assert client.get(reverse("analytics:dashboard"), {"refresh": "abc"}).status_code == 404


def test_member_360_shows_segments_with_reasons(client, ops_manager, refreshed):
    row = MemberAnalytics.objects.filter(refresh=refreshed, visit_days__gte=3).first()
    client.force_login(ops_manager.user)
    page = client.get(reverse("members:member_detail", args=[row.member_id])).content.decode()
    assert "RFM" in page and row.rfm in page
    assert "last purchase" in page or "最近一次" in page or "first purchase" in page or "首次" in page


def test_dashboard_without_a_refresh_says_how_to_make_one(client, ops_manager, db):
    client.force_login(ops_manager.user)
    assert "vipcare analytics refresh" in client.get(reverse("analytics:dashboard")).content.decode()


def test_nav_link_for_managers(client, ops_manager, account_manager):
    client.force_login(ops_manager.user)
    assert reverse("analytics:dashboard") in client.get(reverse("home")).content.decode()
    client.force_login(account_manager.user)
    assert reverse("analytics:dashboard") not in client.get(reverse("home")).content.decode()


def test_member_without_analytics_has_no_panel(client, ops_manager, db):
    person = factories.member(name="王芳")
    client.force_login(ops_manager.user)
    assert "RFM" not in client.get(reverse("members:member_detail", args=[person.pk])).content.decode()


def test_member_card_shows_pyramid_and_falling_off_facts(client, ops_manager, refreshed):
    row = MemberAnalytics.objects.filter(refresh=refreshed, falling_off=True).first() or MemberAnalytics.objects.filter(
        refresh=refreshed).first()
    client.force_login(ops_manager.user)
    page = client.get(reverse("members:member_card", args=[row.member_id])).content.decode()
    assert row.get_pyramid_display() in page and row.get_lifecycle_display() in page
