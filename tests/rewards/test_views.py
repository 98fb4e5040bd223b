"""The catalogue screens (operations managers configure, store managers look) and the service
desk's redeem / hand over / cancel from the member 360 page, through a logged-in client."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from vipcare.core.models import AuditLogEntry
from vipcare.loyalty.models import PointsAccount
from vipcare.loyalty.services import points_earn
from vipcare.rewards.models import Redemption, Reward
from vipcare.rewards.services import reward_redeem


@pytest.fixture
def rich(member):
    points_earn(member=member, points=2000, idempotency_key="opening", at=timezone.now())
    return member


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_member_360_lists_redeemable_rewards_with_spendable_points(client_en, account_manager, rich, umbrella,
                                                                   other_store):
    Reward.objects.create(code="tea", name="双人下午茶", points=5000, stock=2)
    Reward.objects.create(code="spa", name="护理体验", points=100, stock=2).stores.set([other_store])
    client_en.force_login(account_manager.user)
    page = text(client_en.get(reverse("members:member_detail", args=[rich.pk])))
    assert "Rewards for points" in page and "2,000</strong> points to spend" in page
    assert "晴雨伞" in page and "双人下午茶" in page and "3,000 more points needed" in page
    assert "护理体验" in page and "not handed out in your stores" in page  # the guide works in F101 only
    assert reverse("rewards:member_redeem", args=[rich.pk]) in page


def test_front_desk_redeems_from_the_member_360_once_per_submit(client_en, account_manager, rich, umbrella, store):
    # given the front desk on the member's page
    client_en.force_login(account_manager.user)
    form = {"reward": umbrella.pk, "store": store.pk, "token": "t-1", "hand_over": "1"}
    url = reverse("rewards:member_redeem", args=[rich.pk])
    # when the form is posted, and posted again (a double click)
    response = client_en.post(url, form, follow=True)
    client_en.post(url, form)
    # then one redemption, handed over, the points spent, the step audited
    assert "晴雨伞 redeemed for 800 points." in text(response)
    redemption = Redemption.objects.get()
    assert redemption.status == "handed_over" and redemption.redeemed_by == account_manager.user
    assert PointsAccount.objects.get(member=rich).balance == 1200
    assert Reward.objects.get().stock == 2
    assert AuditLogEntry.objects.filter(action="reward_redeem", target_id=str(rich.pk)).count() == 1
    assert "Handed over" in text(client_en.get(reverse("members:member_detail", args=[rich.pk])))


def test_a_refused_redemption_shows_why_and_changes_nothing(client_en, account_manager, member, umbrella, store):
    client_en.force_login(account_manager.user)
    response = client_en.post(reverse("rewards:member_redeem", args=[member.pk]),
                              {"reward": umbrella.pk, "store": store.pk, "token": "t-1"}, follow=True)
    assert "Not redeemed: not enough points: 0 available, 800 needed" in text(response)
    assert not Redemption.objects.exists() and Reward.objects.get().stock == 3


def test_a_waiting_gift_is_handed_over_or_cancelled_by_a_manager(client_en, store_manager, account_manager, rich,
                                                                 umbrella, store):
    waiting = [reward_redeem(reward=umbrella, member=rich, store=store, idempotency_key=f"k{i}") for i in range(2)]
    client_en.force_login(account_manager.user)
    client_en.post(reverse("rewards:redemption_hand_over", args=[waiting[0].pk]))
    refused = client_en.post(reverse("rewards:redemption_cancel", args=[waiting[1].pk]), {"reason": "x"})
    assert refused.status_code == 403  # an account manager may not cancel
    assert Redemption.objects.get(pk=waiting[1].pk).status == "redeemed"
    client_en.force_login(store_manager.user)
    client_en.post(reverse("rewards:redemption_cancel", args=[waiting[1].pk]), {"reason": "不要了"})
    assert dict(Redemption.objects.values_list("pk", "status")) == {waiting[0].pk: "handed_over",
                                                                     waiting[1].pk: "cancelled"}
    assert PointsAccount.objects.get(member=rich).balance == 1200 and Reward.objects.get().stock == 2


def test_operations_manager_adds_a_reward_and_the_form_checks_it(client_en, ops_manager, store):
    client_en.force_login(ops_manager.user)
    url = reverse("rewards:reward_new")
    bad = client_en.post(url, {"code": "bag", "name": "帆布袋", "kind": "gift", "points": 500})
    assert bad.status_code == 200 and "A gift needs its stock." in text(bad)
    response = client_en.post(url, {"code": "bag", "name": "帆布袋", "kind": "gift", "points": 500, "stock": 40,
                                    "per_member_limit": 1, "stores": [store.pk], "is_active": "on"})
    assert response.status_code == 302
    reward = Reward.objects.get()
    assert reward.stock == 40 and list(reward.stores.all()) == [store]
    page = text(client_en.get(reverse("rewards:catalogue")))
    assert "帆布袋" in page and reverse("rewards:reward_edit", args=[reward.pk]) in page


def test_catalogue_roles(client_en, account_manager, store_manager, umbrella):
    client_en.force_login(account_manager.user)
    assert client_en.get(reverse("rewards:catalogue")).status_code == 403
    client_en.force_login(store_manager.user)
    page = client_en.get(reverse("rewards:catalogue"))
    assert page.status_code == 200 and "晴雨伞" in text(page)
    assert reverse("rewards:reward_edit", args=[umbrella.pk]) not in text(page)
    assert client_en.get(reverse("rewards:reward_edit", args=[umbrella.pk])).status_code == 403


def test_catalogue_page_queries_do_not_grow_with_rewards(client_en, ops_manager, store, django_assert_max_num_queries):
    for i in range(12):
        reward = Reward.objects.create(code=f"g{i}", name=f"礼品{i}", points=100 + i, stock=5)
        reward.stores.set([store])
    client_en.force_login(ops_manager.user)
    with django_assert_max_num_queries(12):
        assert client_en.get(reverse("rewards:catalogue")).status_code == 200
