"""An account manager completes a call from today's list and finds it on the member's timeline."""

import datetime

import pytest
from django.utils import timezone

from tests import factories
from tests.e2e.test_member_lookup import browser_page  # noqa: F401 (fixture)

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def day_of_calls(transactional_db):
    from vipcare.care.models import CareTask, Playbook
    from vipcare.care.services import care_defaults_install

    care_defaults_install()  # an earlier transactional test may have flushed what the migration installed
    store = factories.store(code="F101", name="衣恋", brand="E·LAND")
    guide = factories.staff(role="account_manager", stores=[store], username="guide", name="王导购")
    member = factories.member(name="李娜", phone="13812345678", gender="F", home_store=store, consent_phone=True,
                              account_manager=guide)
    CareTask.objects.create(member=member, assignee=guide, playbook=Playbook.objects.get(kind="regular_call"),
                            occasion_key="e2e", due_on=timezone.localdate() - datetime.timedelta(days=1),
                            reason="每月电话问候", script="李女士您好，我是衣恋的王导购", priority=80)
    return member


def test_account_manager_completes_a_call_and_it_appears_on_the_timeline(live_server, day_of_calls, browser_page):  # noqa: F811
    page = browser_page
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", "guide")
    page.fill("#id_password", factories.PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    page.click("nav.mainnav a[href=\"/care/today/\"]")
    row = page.locator("tr.task").first
    assert "每月电话问候" in row.inner_text() and "李女士您好" in row.inner_text()
    row.locator("select[name=outcome]").select_option("reached")
    row.locator("input[name=notes]").fill("刚从云南旅行回来")
    row.locator("select[name=satisfaction]").select_option("5")
    row.locator("button[type=submit]").click()
    page.locator("tr.task.done").wait_for()
    page.locator("tr.task a", has_text="李娜").click()
    page.wait_for_url(f"{live_server.url}/members/{day_of_calls.pk}/")
    timeline = page.locator("ol.timeline").inner_text()
    assert "刚从云南旅行回来" in timeline and "已联系" in timeline
