"""The till over the POS API: quote, checkout in one transaction, idempotent retries, holds, refunds
that reverse in proportion, and bad requests that get a specific 4xx and change nothing."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests import factories
from tests.till.conftest import balances, basket, counts, post
from vipcare.loyalty.models import MemberTier, PointsEntry, Tier
from vipcare.offers.models import Coupon, CouponRule
from vipcare.offers.services import coupon_issue
from vipcare.sales.models import Sale
from vipcare.till.models import Checkout, TillHold


def coupon(template, member, key="c1", **fields):
    return coupon_issue(template=template, member=member, issue_key=key, source="rule", **fields)


# --- quote -------------------------------------------------------------------------------------------------

def test_quote_prices_level_coupon_tenders_and_points_to_earn(rich, till, off50):
    # given a gold member (5% off, points ×1.5) with a ¥50-off-from-¥300 coupon
    c = coupon(off50, rich)
    before = counts()
    # when the till asks for a quote paying 3,000 points and ¥100 stored value
    response = post("/quote", basket(rich, coupons=[c.code], points=3000, stored_value_fen=10000), till, key=None)
    # then the price follows the stated order, and nothing was written
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["level"] == {"code": "gold", "name": "金卡", "discount_percent": "5"}
    assert body["gross_fen"] == 40000
    assert body["discounts"] == {"level_fen": 2000, "birthday_fen": 0, "member_day_fen": 0, "coupons_fen": 5000}
    assert body["total_fen"] == 33000
    assert [line["pay_fen"] for line in body["lines"]] == [24750, 8250]
    assert body["coupons"] == [{"code": c.code, "name": "满300减50", "discount_fen": 5000, "gift": ""}]
    assert body["pay"] == {"points": 3000, "points_fen": 3000, "stored_value_fen": 10000, "other_fen": 20000}
    # points on what was not paid with points: 225 + 75 yuan, ×1.5 gold, rounded down per line
    assert body["points_to_earn"] == 337 + 112
    assert body["points"] == {"balance": 5000, "points_per_yuan": 100, "can_pay_points": 5000, "can_pay_fen": 5000}
    assert body["stored_value"] == {"balance_fen": 180000, "principal_fen": 100000, "bonus_fen": 80000,
                                    "can_pay_fen": 33000}
    assert body["available_coupons"] == []
    assert counts() == before


def test_quote_lists_live_coupons_and_applies_the_birthday_benefit(store, till, off50, gold):
    today = timezone.localdate()
    member = factories.member(name="寿星", birthday=today.replace(year=1990) if (today.month, today.day) != (2, 29)
                              else datetime.date(1992, 2, 29))
    MemberTier.objects.create(member=member, tier=gold, since=timezone.now())
    c = coupon(off50, member)
    body = post("/quote", basket(member), till, key=None).json()
    assert body["birthday"] is True
    assert body["discounts"]["birthday_fen"] == 1900  # 5% of the 38,000 left after the level's 5%
    assert [x["code"] for x in body["available_coupons"]] == [c.code]


# --- checkout ------------------------------------------------------------------------------------------------

def test_checkout_commits_sale_points_stored_value_and_coupon_together(rich, till, off50, cashier):
    c = coupon(off50, rich)
    response = post("/checkouts", basket(rich, coupons=[c.code], points=3000, stored_value_fen=10000,
                                         expected_total_fen=33000, receipt_no="R100", staff_no=cashier.staff_no),
                    till, key="co-1")
    assert response.status_code == 201, response.json()
    body = response.json()
    checkout = Checkout.objects.get()
    sale = Sale.objects.get()
    assert body["id"] == checkout.pk and body["sale"]["id"] == sale.pk and body["sale"]["receipt_no"] == "R100"
    # the sale records what the member really paid per line, the programme's discounts included
    assert sale.total_fen == 33000 and [line["amount_fen"] for line in body["sale"]["lines"]] == [24750, 8250]
    assert body["pay"] == {"points": 3000, "points_fen": 3000, "stored_value_fen": 10000, "other_fen": 20000}
    # stored value: bonus pro rata (4,444 of 10,000), principal the rest
    assert (body["stored_value_principal_fen"], body["stored_value_bonus_fen"]) == (5556, 4444)
    assert body["points_earned"] == 449
    assert balances(rich) == (5000 - 3000 + 449, 100000 - 5556, 80000 - 4444)
    assert (body["points_balance"], body["stored_value_balance_fen"]) == (2449, 180000 - 10000)
    c.refresh_from_db()
    assert c.status == "redeemed" and c.redemption.sale == sale
    call_command("check", "ledgers")


def test_checkout_retry_with_the_same_key_replays_and_writes_nothing(rich, till, off50):
    c = coupon(off50, rich)
    body = basket(rich, coupons=[c.code], points=1000, stored_value_fen=500)
    first = post("/checkouts", body, till, key="retry-me")
    after = counts()
    again = post("/checkouts", body, till, key="retry-me")
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert counts() == after
    changed = post("/checkouts", {**body, "points": 2000}, till, key="retry-me")
    assert changed.status_code == 422 and counts() == after


def test_checkout_that_earns_a_level_upgrades_and_issues_level_up_coupons(store, till, off50):
    ordinary = Tier.objects.get(code="ordinary")  # a single purchase of ¥1,000 earns it
    CouponRule.objects.create(name="开卡礼", trigger="level_up", template=off50, tier=ordinary)
    member = factories.member(name="新客")
    response = post("/checkouts", basket(member, lines=[{"unit_price_fen": 120000, "quantity": 1}]), till)
    body = response.json()
    assert response.status_code == 201, body
    assert body["level"] is None and body["level_change"] == {"from": None, "to": "ordinary"}
    assert [x["name"] for x in body["coupons_issued"]] == ["满300减50"]
    assert MemberTier.objects.get(member=member).tier == ordinary
    assert body["points_earned"] == 1200  # earned at the level held before the sale (none: ×1)


def test_checkout_paid_whole_by_stored_value_earns_points_on_it(rich, till):
    response = post("/checkouts", basket(rich, stored_value_fen=38000), till)
    assert response.status_code == 201
    assert response.json()["pay"]["other_fen"] == 0
    assert response.json()["points_earned"] == 427 + 142  # ¥285 and ¥95 × 1.5, each rounded down


# --- holds ----------------------------------------------------------------------------------------------------

def test_hold_then_checkout_captures_it(rich, till):
    held = post("/holds", {"member": rich.card_no, "points": 2000, "stored_value_fen": 9000}, till)
    assert held.status_code == 201, held.json()
    hold = held.json()
    assert hold["status"] == "held" and balances(rich) == (3000, 100000 - 5000, 80000 - 4000)
    response = post("/checkouts", basket(rich, hold_id=hold["id"]), till)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["pay"] == {"points": 2000, "points_fen": 2000, "stored_value_fen": 9000, "other_fen": 38000 - 11000}
    assert (body["stored_value_principal_fen"], body["stored_value_bonus_fen"]) == (5000, 4000)
    assert TillHold.objects.get().status == "captured"
    # a captured hold can be neither captured again nor released
    again = post("/checkouts", basket(rich, hold_id=hold["id"], receipt_no="R2"), till)
    assert (again.status_code, again.json()["code"]) == (409, "hold_captured")
    release = post(f"/holds/{hold['id']}/release", {}, till)
    assert (release.status_code, release.json()["code"]) == (409, "hold_captured")
    call_command("check", "ledgers")


def test_hold_release_gives_everything_back_and_twice_is_harmless(rich, till):
    hold = post("/holds", {"member": rich.card_no, "points": 2000, "stored_value_fen": 9000}, till).json()
    first = post(f"/holds/{hold['id']}/release", {}, till)
    assert first.status_code == 200 and first.json()["status"] == "released"
    assert balances(rich) == (5000, 100000, 80000)
    assert post(f"/holds/{hold['id']}/release", {}, till).json()["status"] == "released"
    refused = post("/checkouts", basket(rich, hold_id=hold["id"]), till)
    assert (refused.status_code, refused.json()["code"]) == (409, "hold_released")
    call_command("check", "ledgers")


def test_hold_times_out_and_is_released_by_the_job_or_the_next_hold(rich, till):
    hold = post("/holds", {"member": rich.card_no, "points": 1000, "expires_in_seconds": 10}, till).json()
    TillHold.objects.filter(pk=hold["id"]).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    refused = post("/checkouts", basket(rich, hold_id=hold["id"]), till)
    assert (refused.status_code, refused.json()["code"]) == (409, "hold_expired")
    call_command("till", "release-holds")
    assert TillHold.objects.get().status == "released" and balances(rich)[0] == 5000
    # and a till that never ran the job: the member's next hold releases the stale one first
    second = post("/holds", {"member": rich.card_no, "points": 5000, "expires_in_seconds": 10}, till).json()
    TillHold.objects.filter(pk=second["id"]).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    third = post("/holds", {"member": rich.card_no, "points": 5000}, till)
    assert third.status_code == 201, third.json()
    assert TillHold.objects.get(pk=second["id"]).status == "released"
    call_command("check", "ledgers")


# --- refunds ----------------------------------------------------------------------------------------------------

def test_refund_reverses_every_tender_in_proportion_and_reissues_coupons_when_whole(rich, till, off50):
    c = coupon(off50, rich)
    checkout = post("/checkouts", basket(rich, coupons=[c.code], points=3000, stored_value_fen=10000),
                    till).json()
    line_ids = [line["id"] for line in checkout["sale"]["lines"]]
    # when the scarf (¥82.50 of the ¥330) comes back
    part = post(f"/checkouts/{checkout['id']}/refunds", {"lines": [{"sale_line_id": line_ids[1], "quantity": 1}]},
                till)
    assert part.status_code == 201, part.json()
    body = part.json()
    assert body["refund"]["amount_fen"] == 8250
    # each tender gives back its share of 8,250: 3,000 : 10,000 : 20,000 of 33,000
    assert (body["points_returned_fen"], body["stored_value_returned_fen"], body["other_returned_fen"]) == \
        (750, 2500, 5000)
    assert body["points_returned"] == 750
    assert body["points_reversed"] == 112 and body["points_shortfall"] == 0  # what the scarf earned
    assert body["coupons_reissued"] == []  # the dress is kept: the coupon stays used
    # when the rest comes back
    rest = post(f"/checkouts/{checkout['id']}/refunds", {}, till).json()
    assert (rest["points_returned"], rest["stored_value_returned_fen"], rest["other_returned_fen"]) == \
        (2250, 7500, 15000)
    assert rest["points_reversed"] == 337
    assert [x["name"] for x in rest["coupons_reissued"]] == ["满300减50"]
    # then the member is exactly where they were, with a fresh coupon instead of the used one
    assert balances(rich) == (5000, 100000, 80000)
    assert Coupon.objects.filter(member=rich, status="issued").count() == 1
    call_command("check", "ledgers")


def test_refund_through_the_plain_pos_endpoint_reverses_the_checkout_too(rich, till):
    from tests.sales.test_api import post as pos_post

    checkout = post("/checkouts", basket(rich, points=1000, stored_value_fen=2000), till).json()
    response = pos_post(f"/pos/sales/{checkout['sale']['id']}/refunds", {}, till)
    assert response.status_code == 201, response.json()
    assert balances(rich) == (5000, 100000, 80000)
    call_command("check", "ledgers")


def test_refund_undoes_the_upgrade_and_withdraws_its_unused_coupon(store, till, off50):
    ordinary = Tier.objects.get(code="ordinary")
    CouponRule.objects.create(name="开卡礼", trigger="level_up", template=off50, tier=ordinary)
    member = factories.member(name="新客")
    checkout = post("/checkouts", basket(member, lines=[{"unit_price_fen": 120000, "quantity": 1}]), till).json()
    body = post(f"/checkouts/{checkout['id']}/refunds", {}, till).json()
    assert body["level_change"] == {"from": "ordinary", "to": None}
    assert MemberTier.objects.get(member=member).tier is None
    assert list(Coupon.objects.filter(member=member).values_list("status", flat=True)) == ["void"]
    assert PointsEntry.objects.filter(kind="refund_reversal").get().delta == -1200


def test_refund_of_points_already_spent_records_a_shortfall_never_a_negative_balance(store, till):
    member = factories.member(name="花光")
    checkout = post("/checkouts", basket(member), till).json()  # earns 400 points
    spend = post("/checkouts", basket(member, points=400, receipt_no="R2"), till)
    assert spend.status_code == 201, spend.json()
    body = post(f"/checkouts/{checkout['id']}/refunds", {}, till).json()
    assert (body["points_reversed"], body["points_shortfall"]) == (0 + spend.json()["points_earned"], 400 -
                                                                    spend.json()["points_earned"])
    assert balances(member)[0] == 0
    call_command("check", "ledgers")


# --- bad requests: a specific status and code, nothing changed ---------------------------------------------------

def refused(response, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.json()
    body = response.json()
    assert body["code"] == code
    if field:
        assert field in body["errors"]


def test_unknown_member_is_404(rich, till):
    before = counts()
    refused(post("/checkouts", basket(rich, member="13900000000"), till), 404, "member_not_found", "member")
    refused(post("/quote", basket(rich, member="nobody"), till, key=None), 404, "member_not_found", "member")
    refused(post("/holds", {"member": "nobody", "points": 10}, till), 404, "member_not_found")
    assert counts() == before


def test_expired_used_foreign_and_unknown_coupons_are_refused(rich, till, off50):
    old = coupon(off50, rich, key="old", at=timezone.now() - datetime.timedelta(days=40))
    used = coupon(off50, rich, key="used")
    assert post("/checkouts", basket(rich, coupons=[used.code]), till).status_code == 201
    theirs = coupon(off50, factories.member(name="别人"), key="theirs")
    before = counts()
    refused(post("/checkouts", basket(rich, coupons=[old.code]), till), 422, "coupon_expired", "coupons[0]")
    refused(post("/checkouts", basket(rich, coupons=[used.code]), till), 409, "coupon_used", "coupons[0]")
    refused(post("/checkouts", basket(rich, coupons=[theirs.code]), till), 422, "coupon_not_yours", "coupons[0]")
    refused(post("/checkouts", basket(rich, coupons=["CXXXXXXXXXXX"]), till), 404, "coupon_not_found", "coupons[0]")
    small = basket(rich, coupons=[coupon(off50, rich, key="fresh").code], lines=[{"unit_price_fen": 100,
                                                                                   "quantity": 1}])
    before = counts()
    refused(post("/checkouts", small, till), 422, "coupon_min_spend", "coupons[0]")
    assert counts() == before


def test_insufficient_points_or_stored_value_is_409(rich, till):
    before = counts()
    refused(post("/checkouts", basket(rich, points=6000), till), 409, "insufficient_points", "points")
    big = basket(rich, stored_value_fen=190000, lines=[{"unit_price_fen": 300000, "quantity": 1}])
    refused(post("/checkouts", big, till), 409, "insufficient_balance", "stored_value_fen")
    refused(post("/quote", basket(rich, points=6000), till, key=None), 409, "insufficient_points")
    refused(post("/holds", {"member": rich.card_no, "stored_value_fen": 190000}, till), 409, "insufficient_balance")
    # the points were taken and the sale written before the card refused: all of it rolled back
    held = balances(rich)
    refused(post("/checkouts", {**big, "points": 100}, till), 409, "insufficient_balance", "stored_value_fen")
    assert balances(rich) == held
    assert counts() == before


def test_wrong_store_for_the_key_is_403(rich, store, till, other_till):
    checkout = post("/checkouts", basket(rich), till).json()
    hold = post("/holds", {"member": rich.card_no, "points": 100}, till).json()
    before = counts()
    refused(post("/checkouts", basket(rich, store_code="C201"), till), 403, "wrong_store")
    refused(post(f"/checkouts/{checkout['id']}/refunds", {}, other_till), 403, "wrong_store")
    refused(post(f"/holds/{hold['id']}/release", {}, other_till), 403, "wrong_store")
    refused(post("/checkouts", basket(rich, hold_id=hold["id"]), other_till), 403, "wrong_store", "hold_id")
    assert counts() == before


def test_malformed_payloads_are_refused_with_field_errors(rich, till):
    before = counts()
    response = post("/checkouts", "{not json", till)
    assert response.status_code == 400
    response = post("/checkouts", {"member": rich.card_no, "lines": []}, till)
    assert response.status_code == 422 and "lines" in response.json()["errors"]
    response = post("/checkouts", basket(rich, points=-5), till)
    assert response.status_code == 422 and "points" in response.json()["errors"]
    response = post("/checkouts", basket(rich, lines=[{"unit_price_fen": 100, "quantity": 0}]), till)
    assert response.status_code == 422 and "lines[0].quantity" in response.json()["errors"]
    response = post("/checkouts", basket(rich), till, key=None)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["errors"]
    refused(post("/checkouts", basket(rich, points=30000, stored_value_fen=20000), till), 422,
            "payment_exceeds_total")
    refused(post("/checkouts", basket(rich, expected_total_fen=40000), till), 409, "price_changed",
            "expected_total_fen")
    refused(post("/holds", {"member": rich.card_no}, till), 422, "nothing_to_hold")
    refused(post("/checkouts", basket(rich, hold_id=999999), till), 404, "hold_not_found", "hold_id")
    refused(post("/checkouts/999999/refunds", {}, till), 404, "checkout_not_found")
    assert counts() == before


def test_till_needs_a_key(rich):
    from tests.till.conftest import client

    assert client.post("/pos/till/quote", json=basket(rich)).status_code == 401


@pytest.mark.parametrize("rate,points,ok", [(100, 150, True), (300, 4, False), (300, 3, True), (50, 3, True)])
def test_points_pay_whole_fen_only(rich, till, rate, points, ok):
    from vipcare.loyalty.models import PointsPolicy

    PointsPolicy.objects.update_or_create(pk=1, defaults={"redeem_points_per_yuan": rate})  # saved: signals
    response = post("/quote", basket(rich, points=points), till, key=None)
    if ok:
        assert response.json()["pay"]["points_fen"] == points * 100 // rate
    else:
        refused(response, 422, "points_not_whole", "points")
