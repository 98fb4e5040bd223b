"""A store manager gives a member another account manager, then marks them lost, from the member 360."""

import pytest

from tests import factories
from tests.e2e.test_member_lookup import browser_page  # noqa: F401 (fixture)

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def member(transactional_db):
    # all database work before the browser starts (Playwright's loop runs in this thread)
    from vipcare.care.services import care_defaults_install

    care_defaults_install()
    store = factories.store(code="F101", name="衣恋", brand="E·LAND")
    guide = factories.staff(role="account_manager", stores=[store], username="guide", name="王导购")
    factories.staff(role="account_manager", stores=[store], username="liu", name="刘导购")
    factories.staff(role="store_manager", stores=[store], username="manager", name="陈店长")
    return factories.member(name="李娜", phone="13812345678", gender="F", home_store=store, account_manager=guide)


def test_store_manager_overrides_the_account_manager_and_marks_the_member_lost(live_server, member,
                                                                               browser_page):  # noqa: F811
    page = browser_page
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", factories.PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    page.goto(f"{live_server.url}/members/{member.pk}/")
    form = page.locator("form.care-manager")
    assert form.locator("select[name=manager] option:checked").inner_text().startswith("王导购")
    form.locator("select[name=manager]").select_option(label="刘导购 · 客户经理 / 导购")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/members/{member.pk}/")
    assert "刘导购" in page.locator(".messages").inner_text()
    assert page.locator("form.care-manager select[name=manager] option:checked").inner_text().startswith("刘导购")
    # mark lost, with the reason and a note
    page.locator("details.care-lost summary").click()
    lost = page.locator("details.care-lost form")
    lost.locator("select[name=reason]").select_option("competitive")
    lost.locator("input[name=note]").fill("搬到了城东，常去新开的商场")
    lost.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/members/{member.pk}/")
    tag = page.locator("p.tag.lost").inner_text()
    assert "竞争流失" in tag and "搬到了城东" in tag
    assert page.locator("details.care-lost").count() == 0  # marked once
