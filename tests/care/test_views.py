"""Care screens: today's list, completing a task through htmx, complaints, plan export, attendance."""

import datetime
import io

import pytest
from django.utils import timezone

from tests import factories
from vipcare.care.models import CareTask, Playbook


@pytest.fixture
def task(vip, account_manager):
    return CareTask.objects.create(member=vip, assignee=account_manager, playbook=Playbook.objects.get(
        kind="regular_call"), occasion_key="k", due_on=timezone.localdate() - datetime.timedelta(days=1),
        reason="每月电话问候", script="李女士您好，我是衣恋的王导购", priority=80)


def login(client, username):
    assert client.login(username=username, password=factories.PASSWORD)


def test_today_lists_own_and_overdue_tasks_and_htmx_completion_reaches_the_timeline(client, task, vip):
    login(client, "guide")
    page = client.get("/care/today/").content.decode()
    assert "每月电话问候" in page and "李女士您好" in page and f"/members/{vip.pk}/" in page
    answer = client.post(f"/care/tasks/{task.pk}/complete/", {"outcome": "reached", "notes": "一切都好",
                                                              "satisfaction": "5"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200 and "已联系" in answer.content.decode() or "Reached" in answer.content.decode()
    task.refresh_from_db()
    assert task.status == "done"
    detail = client.get(f"/members/{vip.pk}/").content.decode()
    assert "一切都好" in detail and "每月电话问候" not in detail.split("Timeline")[0][-10:]


def test_others_cannot_complete_someone_elses_task(client, task, store):
    factories.staff(role="account_manager", stores=[store], username="other")
    login(client, "other")
    assert client.post(f"/care/tasks/{task.pk}/complete/", {"outcome": "reached"}).status_code == 404
    assert client.get("/care/today/").status_code == 200


def test_store_manager_sees_completion_by_staff_and_playbook(client, task, store_manager):
    login(client, "manager")
    page = client.get("/care/today/").content.decode()
    assert "王导购" in page and Playbook.objects.get(kind="regular_call").name in page


def test_complaint_recorded_from_the_page(client, vip, account_manager):
    login(client, "guide")
    client.post("/care/complaints/", {"member": vip.card_no, "kind": "complaint", "description": "试衣间太少"})
    assert "试衣间太少" in client.get("/care/complaints/").content.decode()
    assert "试衣间太少" in client.get(f"/members/{vip.pk}/").content.decode()


def test_yearly_plan_exports_to_excel(client, vip, account_manager):
    from openpyxl import load_workbook

    login(client, "guide")
    answer = client.get(f"/care/plan/?member={vip.pk}&year=2026&format=xlsx")
    sheet = load_workbook(io.BytesIO(answer.content)).active
    rows = {row[0]: row for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert "生日祝福" in rows["3月"][1] and "中秋节问候（09-25）" in rows["9月"][1]


def test_attendance_sheet_shows_who_came_where_served_by_whom(client, vip, store, account_manager):
    sale = factories.sale(vip, store, 59900, sold_at=timezone.now())
    type(sale).objects.filter(pk=sale.pk).update(staff=account_manager)
    login(client, "guide")
    page = client.get("/care/attendance/").content.decode()
    assert "李娜" in page and "衣恋" in page and "王导购" in page and "¥599.00" in page
