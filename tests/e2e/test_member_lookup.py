"""A member looked up by phone in a real browser (Debian's chromium driven by Playwright)."""

import pytest

from tests import factories

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
SCREENSHOT = "/tmp/vipcare-e2e-member-360.png"

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(10_000)
        try:
            yield page
        finally:
            browser.close()


@pytest.fixture
def shop(transactional_db):
    # All database work happens before the browser starts: Playwright's sync API runs an event loop
    # in this thread, and Django refuses ORM calls from a thread with a running loop.
    store = factories.store(code="F101", name="衣恋", brand="E·LAND")
    factories.staff(role="operations_manager", username="ops", name="周经理")
    member = factories.member(name="李娜", phone="13812345678", gender="F", home_store=store, size_top="M")
    factories.sale(member, store, 59900, brand="E·LAND", sku="EL-2026-01", category="女装")
    factories.member(name="王芳", phone="13900001111", gender="F", home_store=store)
    return member


def test_staff_finds_member_by_phone_and_opens_member_360(live_server, shop, browser_page):
    page = browser_page
    # given a logged-in operations manager
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", factories.PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    # when they search the member list by phone, the results update as they type (htmx)
    page.click("nav.mainnav >> text=会员")
    page.fill("#id_q", "13812345678")
    rows = page.locator("#member-results tbody tr")
    rows.filter(has_not_text="王芳").first.wait_for()
    page.wait_for_function("document.querySelectorAll('#member-results tbody tr').length === 1")
    assert "138****5678" in rows.first.inner_text()
    # and open the member
    rows.first.locator("a", has_text="李娜").click()
    page.wait_for_url(f"{live_server.url}/members/{shop.pk}/")
    # then the member 360 page shows the archive in Chinese, masked
    body = page.locator("main").inner_text()
    assert "会员全景" in body and "消费记录" in body and "李女士" in body
    assert "EL-2026-01" in body and "¥599.00" in body
    assert "13812345678" not in body
    page.screenshot(path=SCREENSHOT, full_page=True)
    # and revealing the personal data (htmx POST with the CSRF header) shows the number in full
    page.click("#personal-data button")
    page.locator("#personal-data.revealed").wait_for()
    assert "13812345678" in page.locator("#personal-data").inner_text()
