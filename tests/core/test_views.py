"""The home page, the login and the language switch."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from tests import factories


def test_home_requires_login(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_home_without_staff_profile_is_403(client, db):
    client.force_login(get_user_model().objects.create_user("outsider", password=factories.PASSWORD))
    assert client.get(reverse("home")).status_code == 403


def test_login_page_renders_in_chinese(client, db):
    content = client.get(reverse("login")).content.decode()
    assert "登录" in content and "用户名" in content


def test_login_with_password_goes_home(client, ops_manager):
    response = client.post(reverse("login"), {"username": "ops", "password": factories.PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_home_counts_are_scoped_to_the_staff_stores(client, store_manager, ops_manager, member, store, other_store):
    # given one member and one sale today in each store
    elsewhere = factories.member(name="周芳", home_store=other_store)
    factories.sale(member, store, 12300, sold_at=timezone.now())
    factories.sale(elsewhere, other_store, 45600, sold_at=timezone.now())
    # then the store manager counts their store only
    client.force_login(store_manager.user)
    response = client.get(reverse("home"))
    assert response.context["member_count"] == 1
    assert response.context["today"] == {"count": 1, "total_fen": 12300}
    assert "¥123.00" in response.content.decode()
    # and the operations manager the whole mall
    client.force_login(ops_manager.user)
    response = client.get(reverse("home"))
    assert response.context["member_count"] == 2
    assert response.context["today"] == {"count": 2, "total_fen": 57900}


def test_home_greets_in_chinese_and_in_english(client, cashier):
    client.force_login(cashier.user)
    content = client.get(reverse("home")).content.decode()
    assert "赵收银" in content and "查找会员" in content and "档案评比" in content
    assert reverse("members:duplicate_list") not in content  # not for cashiers
    assert reverse("admin:index") not in content
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    content = client.get(reverse("home")).content.decode()
    assert "Find member" in content and "Archive ranking" in content


def test_admin_link_only_for_administrators(client, ops_manager):
    admin = factories.staff(role="admin", username="root", name="管理员")
    client.force_login(ops_manager.user)
    assert reverse("admin:index") not in client.get(reverse("home")).content.decode()
    client.force_login(admin.user)
    assert reverse("admin:index") in client.get(reverse("home")).content.decode()


def test_language_switch(client, ops_manager):
    client.force_login(ops_manager.user)
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Members" in client.get(reverse("home")).content.decode()
