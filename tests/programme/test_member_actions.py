"""Acting on a member's stored value, points and level from the member 360: each form for the
roles allowed (and refused, changing nothing, for the others), once on a double submit, bad input
told as a message with nothing changed, the ledgers clean."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.loyalty.helpers import assert_ledgers_clean
from vipcare.loyalty.models import MemberTier, PointsEntry, Tier, TierChange
from vipcare.loyalty.selectors import points_account
from vipcare.loyalty.services import points_earn
from vipcare.wallet.models import WalletEntry
from vipcare.wallet.selectors import wallet_account
from vipcare.wallet.services import wallet_top_up


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def member_360(client, member) -> str:
    return page_text(client.get(reverse("members:member_detail", args=[member.pk])))


def post(client, name, member, data, follow=True):
    return client.post(reverse(f"programme:{name}", args=[member.pk]), data, follow=follow)


def balances(member):
    card = wallet_account(member)
    points = points_account(member)
    return ((card.principal_fen, card.bonus_fen) if card else None, points.balance if points else None,
            WalletEntry.objects.count(), PointsEntry.objects.count(), TierChange.objects.count())


# --- stored value -------------------------------------------------------------------------------------


def test_cashier_tops_up_by_plan_once_on_a_double_submit(client_en, cashier, member, store, plan):
    client_en.force_login(cashier.user)
    page = member_360(client_en, member)
    assert "Top up" in page and "充100送80" in page
    assert "Pay out unused principal" not in page  # a cashier may not pay out
    data = {"token": "tok-1", "plan": plan.pk, "store": store.pk}
    first = post(client_en, "member_top_up", member, data)
    post(client_en, "member_top_up", member, data)
    assert first.redirect_chain[-1][0] == reverse("members:member_detail", args=[member.pk])
    assert "Card topped up." in page_text(first)
    card = wallet_account(member)
    assert (card.principal_fen, card.bonus_fen) == (10000, 8000)
    entry = WalletEntry.objects.get()
    assert entry.store == store and entry.plan == plan and entry.created_by == cashier.user
    assert_ledgers_clean()


def test_plain_amount_in_yuan_tops_up_without_bonus(client_en, account_manager, member, store):
    client_en.force_login(account_manager.user)
    post(client_en, "member_top_up", member, {"token": "tok-2", "amount": "250.50", "store": store.pk})
    card = wallet_account(member)
    assert (card.principal_fen, card.bonus_fen) == (25050, 0)
    assert_ledgers_clean()


@pytest.mark.parametrize("data", [
    {"amount": "-5"}, {"amount": "abc"}, {"amount": "0"}, {}, {"amount": "10", "plan": "PLAN"},
    {"amount": "10", "store": "OTHER"}, {"amount": "10", "token": ""},
])
def test_bad_top_up_changes_nothing(client_en, cashier, member, store, other_store, plan, data):
    client_en.force_login(cashier.user)
    data = {"token": "tok", "store": store.pk, **data}
    data = {k: (plan.pk if v == "PLAN" else other_store.pk if v == "OTHER" else v) for k, v in data.items()}
    before = balances(member)
    response = post(client_en, "member_top_up", member, data)
    assert response.status_code == 200 and "Nothing was changed" in page_text(response)
    assert balances(member) == before


def test_cash_out_pays_principal_once_for_a_store_manager_with_a_reason(client_en, store_manager, member, store,
                                                                         plan):
    wallet_top_up(member=member, plan=plan, idempotency_key="t1", store=store)
    client_en.force_login(store_manager.user)
    assert "Pay out unused principal" in member_360(client_en, member)
    blank = post(client_en, "member_cash_out", member, {"token": "c1", "store": store.pk, "reason": "  "})
    assert "Nothing was changed" in page_text(blank)
    assert wallet_account(member).principal_fen == 10000
    data = {"token": "c2", "store": store.pk, "reason": "会员退卡"}
    done = post(client_en, "member_cash_out", member, data)
    again = post(client_en, "member_cash_out", member, data)
    assert "Unused principal paid out" in page_text(done) and "Nothing was changed" not in page_text(again)
    card = wallet_account(member)
    assert (card.principal_fen, card.bonus_fen) == (0, 0)
    assert WalletEntry.objects.filter(kind="cash_out").count() == 1
    # a fresh form with nothing left to pay out is told so
    empty = post(client_en, "member_cash_out", member, {"token": "c3", "store": store.pk, "reason": "again"})
    assert "Nothing was changed" in page_text(empty) and "no principal left" in page_text(empty)
    assert_ledgers_clean()


def test_cashier_may_not_pay_out(client_en, cashier, member, store, plan):
    wallet_top_up(member=member, plan=plan, idempotency_key="t1", store=store)
    client_en.force_login(cashier.user)
    before = balances(member)
    response = post(client_en, "member_cash_out", member, {"token": "x", "store": store.pk, "reason": "why"},
                    follow=False)
    assert response.status_code == 403
    assert balances(member) == before


# --- points and level ---------------------------------------------------------------------------------


def test_ops_manager_adjusts_points_once_both_ways(client_en, ops_manager, member):
    points_earn(member=member, points=500, idempotency_key="e1")
    client_en.force_login(ops_manager.user)
    page = member_360(client_en, member)
    assert "Adjust points" in page and "Set level" in page
    add = {"token": "a1", "points": "200", "reason": "投诉补偿"}
    assert "Points adjusted." in page_text(post(client_en, "member_points_adjust", member, add))
    post(client_en, "member_points_adjust", member, add)
    assert points_account(member).balance == 700
    post(client_en, "member_points_adjust", member, {"token": "a2", "points": "-100", "reason": "重复积分"})
    assert points_account(member).balance == 600
    assert PointsEntry.objects.filter(kind="adjust").count() == 2
    assert_ledgers_clean()


@pytest.mark.parametrize("data", [
    {"points": "100", "reason": " "}, {"points": "0", "reason": "why"}, {"points": "1.5", "reason": "why"},
    {"points": "-5000", "reason": "more than there is"}, {"points": "", "reason": "why"},
])
def test_bad_points_adjustment_changes_nothing(client_en, ops_manager, member, data):
    points_earn(member=member, points=500, idempotency_key="e1")
    client_en.force_login(ops_manager.user)
    before = balances(member)
    response = post(client_en, "member_points_adjust", member, {"token": "a", **data})
    assert "Nothing was changed" in page_text(response)
    assert balances(member) == before
    assert_ledgers_clean()


@pytest.mark.parametrize("role", ["cashier", "store_manager", "account_manager"])
def test_front_desk_may_not_adjust_points_or_set_a_level(client_en, member, store, role):
    staff = factories.staff(role=role, stores=[store])
    points_earn(member=member, points=500, idempotency_key="e1")
    client_en.force_login(staff.user)
    page = member_360(client_en, member)
    assert "Adjust points" not in page and "Set level" not in page
    before = balances(member)
    gold = Tier.objects.get(code="gold")
    assert post(client_en, "member_points_adjust", member, {"token": "a", "points": "100", "reason": "why"},
                follow=False).status_code == 403
    assert post(client_en, "member_tier_set", member, {"tier": gold.pk, "note": "why"},
                follow=False).status_code == 403
    assert balances(member) == before
    assert not MemberTier.objects.filter(member=member, tier=gold).exists()


def test_ops_manager_sets_a_level_once_and_back_to_none(client_en, ops_manager, member):
    gold = Tier.objects.get(code="gold")
    client_en.force_login(ops_manager.user)
    blank = post(client_en, "member_tier_set", member, {"tier": gold.pk, "note": ""})
    assert "Nothing was changed" in page_text(blank) and TierChange.objects.count() == 0
    data = {"tier": gold.pk, "note": "总监特批"}
    assert "Level set." in page_text(post(client_en, "member_tier_set", member, data))
    assert "already at that level" in page_text(post(client_en, "member_tier_set", member, data))
    assert MemberTier.objects.get(member=member).tier == gold
    change = TierChange.objects.get()
    assert change.to_tier == gold and change.note == "总监特批" and change.created_by == ops_manager.user
    post(client_en, "member_tier_set", member, {"tier": "", "note": "撤销"})
    assert MemberTier.objects.get(member=member).tier is None
    assert TierChange.objects.count() == 2
    assert_ledgers_clean()


def test_forms_show_in_chinese(client, ops_manager, member, store, plan):
    wallet_top_up(member=member, plan=plan, idempotency_key="t1", store=store, at=timezone.now())
    client.force_login(ops_manager.user)
    page = member_360(client, member)
    for chinese in ("充值", "调整积分", "设置等级"):
        assert chinese in page, chinese
