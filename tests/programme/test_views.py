"""The programme's screens: the member 360 panels and card facts, the Programme page with the
liability report, the configuration forms (validated, operations managers only), coupons by hand."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from vipcare.loyalty.models import MemberTier, Tier
from vipcare.loyalty.services import points_earn, points_spend
from vipcare.offers.models import Coupon, CouponTemplate
from vipcare.offers.services import coupon_issue
from vipcare.wallet.models import TopUpPlan
from vipcare.wallet.services import wallet_pay, wallet_top_up


@pytest.fixture
def off50(db):
    return CouponTemplate.objects.create(code="off50", name="满300减50", kind="amount_off", amount_fen=5000,
                                         min_spend_fen=30000, valid_days=30)


@pytest.fixture
def programme_member(member, store, off50):
    silver = Tier.objects.get(code="silver")
    MemberTier.objects.create(member=member, tier=silver, since=timezone.now())
    factories.sale(member, store, 880000, sold_at=timezone.now())  # ¥8,800 this quarter: ¥1,200 short of gold
    points_earn(member=member, points=1000, idempotency_key="e1")
    points_spend(member=member, points=300, idempotency_key="s1")
    plan = TopUpPlan.objects.create(name="充100送80", pay_fen=10000, bonus_fen=8000)
    wallet_top_up(member=member, plan=plan, idempotency_key="t1", store=store)
    wallet_pay(member=member, amount_fen=1800, idempotency_key="p1", store=store)
    coupon_issue(template=off50, member=member, issue_key="c1", source="rule")
    return member


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_member_360_shows_level_progress_points_lots_stored_value_and_coupons(client_en, ops_manager,
                                                                              programme_member):
    client_en.force_login(ops_manager.user)
    page = text(client_en.get(reverse("members:member_detail", args=[programme_member.pk])))
    assert "Level and points" in page and "银卡" in page
    assert "¥1,200 more to 金卡" in page
    assert "Points lots" in page and "1,000" in page and "700" in page  # the lot, what is left of it
    assert "Spent" in page  # the ledger history
    assert "Stored value" in page and "¥90.00" in page and "¥72.00" in page  # principal / bonus after ¥18
    assert "满300减50" in page and "¥50 off from ¥300" in page
    assert "Give a coupon" in page  # an operations manager may issue


def test_member_card_shows_level_first_then_points_and_benefits(client_en, ops_manager, programme_member):
    client_en.force_login(ops_manager.user)
    page = text(client_en.get(reverse("members:member_card", args=[programme_member.pk])))
    assert re.search(r'<span class="mc-level-value">银卡</span>', page)
    assert "Points" in page and "700" in page
    assert "¥162.00" in page  # stored value
    assert "3% off" in page and "2 h free parking" in page


def test_programme_page_summarises_config_and_liability(client_en, ops_manager, programme_member, store):
    client_en.force_login(ops_manager.user)
    response = client_en.get(reverse("programme:overview"))
    assert response.status_code == 200
    page = text(response)
    for expected in ("Levels", "钻石卡", "¥20,000.00", "Points", "100 points pay ¥1", "充100送80", "56%",
                     "Liability", store.name, "¥90.00", "¥72.00", "满300减50"):
        assert expected in page, expected
    assert 'href="/programme/"' in text(client_en.get("/"))  # the navigation link


def test_programme_page_is_for_managers(client, account_manager, store_manager):
    client.force_login(account_manager.user)
    assert client.get(reverse("programme:overview")).status_code == 403
    client.force_login(store_manager.user)
    response = client.get(reverse("programme:overview"))
    assert response.status_code == 200
    assert reverse("programme:config_new", args=["levels"]) not in response.content.decode()  # no editing
    assert client.get(reverse("programme:config_new", args=["levels"])).status_code == 403


def test_level_form_keeps_thresholds_rising_with_rank(client_en, ops_manager):
    client_en.force_login(ops_manager.user)
    gold = Tier.objects.get(code="gold")
    form = {"code": "gold", "name": "金卡", "rank": 3, "threshold_fen": 400000, "threshold_points": 10000,
            "single_purchase_fen": "", "discount_percent": "5", "points_multiplier": "1.5",
            "birthday_discount_percent": "5", "is_active": "on", "parking_hours": 4, "lounge": "on"}
    response = client_en.post(reverse("programme:config_edit", args=["levels", gold.pk]), form)
    assert response.status_code == 200 and "must be above 银卡" in text(response)
    response = client_en.post(reverse("programme:config_edit", args=["levels", gold.pk]),
                              {**form, "threshold_fen": 900000})
    assert response.status_code == 302
    gold.refresh_from_db()
    assert gold.threshold_fen == 900000
    assert gold.services == {"parking_hours": 4, "lounge": True, "priority_delivery": False}


def test_coupon_template_form_validates(client_en, ops_manager):
    client_en.force_login(ops_manager.user)
    form = {"code": "pct", "name": "九折", "kind": "percent_off", "amount_fen": 0, "percent": "0", "min_spend_fen": 0,
            "valid_days": "", "per_member_limit": 0, "limit_period": "ever", "stacking": "combinable",
            "priority": 100}
    response = client_en.post(reverse("programme:config_new", args=["coupon-templates"]), form)
    assert response.status_code == 200
    page = text(response)
    assert "A percent-off coupon needs its percentage." in page and "Give the days a coupon is valid" in page
    response = client_en.post(reverse("programme:config_new", args=["coupon-templates"]),
                              {**form, "percent": "10", "cap_fen": 10000, "valid_days": 14})
    assert response.status_code == 302 and CouponTemplate.objects.get(code="pct").cap_fen == 10000


def test_singleton_policies_and_plans_edit(client_en, ops_manager):
    client_en.force_login(ops_manager.user)
    response = client_en.post(reverse("programme:config_edit", args=["offers-policy"]),
                              {"birthday_window": "week", "birthday_default_percent": "2"})
    assert response.status_code == 302
    from vipcare.offers.selectors import offers_policy

    assert offers_policy().birthday_window == "week"
    response = client_en.post(reverse("programme:config_new", args=["plans"]),
                              {"name": "中秋充值", "pay_fen": 50000, "bonus_fen": 10000, "starts_on": "2026-09-30",
                               "ends_on": "2026-09-01", "is_active": "on"})
    assert response.status_code == 200 and "The last day is before the first." in text(response)
    assert client_en.get(reverse("programme:config_edit", args=["nothing"])).status_code == 404


def test_coupon_by_hand_once_per_form_and_only_for_authorised_roles(client, store_manager, cashier, member, off50):
    url = reverse("programme:member_coupon_issue", args=[member.pk])
    client.force_login(store_manager.user)
    for _ in range(2):  # a double click
        response = client.post(url, {"template": off50.pk, "token": "form-1", "note": "投诉补偿"})
        assert response.status_code == 302
    coupon = Coupon.objects.get()
    assert (coupon.source, coupon.issued_by, coupon.note) == ("manual", store_manager.user, "投诉补偿")
    client.force_login(cashier.user)
    assert client.post(url, {"template": off50.pk, "token": "form-2"}).status_code == 403
    assert Coupon.objects.count() == 1


def test_coupon_withdraw_from_the_panel(client, store_manager, member, off50):
    coupon = coupon_issue(template=off50, member=member, issue_key="c1", source="rule")
    client.force_login(store_manager.user)
    response = client.post(reverse("programme:coupon_void", args=[coupon.pk]), {"reason": "错发"})
    assert response.status_code == 302
    coupon.refresh_from_db()
    assert coupon.status == "void"


def test_member_360_with_panels_has_no_n_plus_one(client, ops_manager, programme_member, store,
                                                  django_assert_max_num_queries):
    for i in range(15):
        points_earn(member=programme_member, points=10 + i, idempotency_key=f"more{i}",
                    at=timezone.now() - datetime.timedelta(days=i))
    client.force_login(ops_manager.user)
    with django_assert_max_num_queries(70):
        assert client.get(reverse("members:member_detail", args=[programme_member.pk])).status_code == 200
