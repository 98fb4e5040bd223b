"""Apps plug panels into the member 360, facts into the member card and links into the nav."""

import pytest

from vipcare.core import registry


@pytest.fixture
def plugged(monkeypatch):
    monkeypatch.setattr(registry, "MEMBER_PANELS", [
        lambda *, member, staff: registry.Panel(title="测试面板", template="partials/_panel_text.html",
                                                 context={"text": f"面板内容 {member.name}"}),
        lambda *, member, staff: None,  # an app with nothing to say about this member
    ])
    monkeypatch.setattr(registry, "MEMBER_CARD_FACTS", [lambda *, member, staff: [("等级", "金卡"), ("积分", "1,200")]])
    monkeypatch.setattr(registry, "NAV_ITEMS", [
        registry.NavItem("仅管理", "home", frozenset({"admin"})), registry.NavItem("所有人", "home", order=1)])


def test_member_360_renders_registered_panels(client, plugged, ops_manager, member):
    client.force_login(ops_manager.user)
    page = client.get(f"/members/{member.pk}/").content.decode()
    assert "测试面板" in page and "面板内容 李娜" in page


def test_member_card_shows_registered_facts(client, plugged, ops_manager, member):
    client.force_login(ops_manager.user)
    page = client.get(f"/members/{member.pk}/card/").content.decode()
    assert "金卡" in page and "1,200" in page


def test_nav_shows_items_for_the_role(plugged, ops_manager):
    assert [item.label for item in registry.nav_for(ops_manager)] == ["所有人"]
    assert registry.nav_for(None) == []
