"""Coupons: issuing (by hand, in bulk, by rule), validity, limits, redemption exactly once, reissue."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction

from tests import factories
from tests.offers.conftest import local, template
from vipcare.loyalty.models import MemberTier, Tier
from vipcare.loyalty.services import tier_set
from vipcare.offers import selectors
from vipcare.offers.models import Coupon, CouponRedemption, CouponRule, MemberDay, OffersPolicy
from vipcare.offers.pricing import OfferRefused
from vipcare.offers.services import (
    coupon_issue,
    coupon_issue_bulk,
    coupon_reissue_for_refund,
    coupon_void,
    coupons_for_checkout,
    coupons_issue_by_rules,
    coupons_issue_for_level_up,
    coupons_redeem,
)
from vipcare.sales.services import refund_record


def issue(template, member, key="k1", at=None, by=None, source="rule"):
    return coupon_issue(template=template, member=member, issue_key=key, source=source, at=at or local(2026, 3, 1),
                        issued_by=by)


# --- issuing -----------------------------------------------------------------------------------------

def test_coupon_issue_is_valid_for_n_days_counting_the_day_of_issue(member, off50):
    coupon = issue(off50, member, at=local(2026, 3, 1, 15))
    assert coupon.valid_from == local(2026, 3, 1, 15)
    assert coupon.valid_until == local(2026, 3, 31, 0)  # 30 days: 1 to 30 March, lapses at midnight
    assert coupon.code.startswith("C") and len(coupon.code) == 12


def test_coupon_issue_with_fixed_dates(member):
    festival = template("mid-autumn", valid_days=None, valid_from=datetime.date(2026, 9, 20),
                        valid_until=datetime.date(2026, 9, 27))
    coupon = issue(festival, member, at=local(2026, 9, 1))
    assert (coupon.valid_from, coupon.valid_until) == (local(2026, 9, 20, 0), local(2026, 9, 28, 0))
    with pytest.raises(ValidationError):  # the festival is over: nothing to issue
        issue(festival, member, key="late", at=local(2026, 9, 28))


def test_coupon_issue_with_the_same_key_returns_the_same_coupon(member, off50):
    first = issue(off50, member)
    assert issue(off50, member) == first
    assert Coupon.objects.count() == 1
    other = factories.member(name="王芳")
    with pytest.raises(ValidationError):
        issue(off50, other)


def test_coupon_issue_by_hand_needs_an_authorised_role(member, off50, ops_manager, cashier):
    coupon = issue(off50, member, by=ops_manager.user, source="manual")
    assert coupon.issued_by == ops_manager.user and coupon.source == "manual"
    with pytest.raises(PermissionDenied):
        issue(off50, member, key="k2", by=cashier.user, source="manual")


def test_coupon_issue_respects_the_per_member_limit_per_period(member, birthday_gift):
    issue(birthday_gift, member, key="y1", at=local(2026, 3, 1))
    with pytest.raises(ValidationError, match="already has 1"):
        issue(birthday_gift, member, key="y1-again", at=local(2026, 11, 1))
    issue(birthday_gift, member, key="y2", at=local(2027, 1, 2))  # a new year, a new one
    assert Coupon.objects.filter(member=member).count() == 2


def test_coupon_issue_refuses_an_inactive_template(member, off50):
    off50.is_active = False
    off50.save()
    with pytest.raises(ValidationError):
        issue(off50, member)


def test_template_validation_says_what_is_missing(db):
    from vipcare.offers.models import CouponTemplate

    row = CouponTemplate(code="bad", name="bad", kind="percent_off", percent=Decimal(0), valid_days=None)
    with pytest.raises(ValidationError) as error:
        row.full_clean()
    assert {"percent", "valid_days"} <= set(error.value.message_dict)


def test_coupon_issue_bulk_is_idempotent_by_batch_and_applies_limits(store, birthday_gift):
    members = [factories.member(name=f"会员{i}") for i in range(4)]
    issue(birthday_gift, members[0], key="earlier", at=local(2026, 2, 1))
    ids = [m.pk for m in members]
    report = coupon_issue_bulk(template=birthday_gift, member_ids=ids, key=lambda m: f"bulk:spring:{m}",
                               at=local(2026, 3, 1))
    assert (report.issued, report.already, report.over_limit) == (3, 0, 1)
    again = coupon_issue_bulk(template=birthday_gift, member_ids=ids, key=lambda m: f"bulk:spring:{m}",
                              at=local(2026, 3, 1))
    assert (again.issued, again.already, again.over_limit) == (0, 3, 1)
    assert Coupon.objects.count() == 4


def test_offers_issue_bulk_command(store, off50, capsys):
    gold = Tier.objects.get(code="gold")
    vip, plain = factories.member(name="金卡会员"), factories.member(name="普通会员")
    MemberTier.objects.create(member=vip, tier=gold, since=local(2026, 1, 1))
    call_command("offers", "issue-bulk", "off50", "--batch", "spring", "--level", "silver")
    call_command("offers", "issue-bulk", "off50", "--batch", "spring", "--level", "silver")
    assert list(Coupon.objects.values_list("member", flat=True)) == [vip.pk]
    assert '"already": 1' in capsys.readouterr().out
    assert plain.coupons.count() == 0


# --- rules ----------------------------------------------------------------------------------------------

def test_birthday_rule_issues_days_ahead_for_solar_and_lunar_birthdays_once(store, birthday_gift):
    CouponRule.objects.create(name="生日礼", trigger="birthday", template=birthday_gift, days_before=3)
    solar = factories.member(name="阳历", birthday=datetime.date(1990, 5, 23))
    lunar = factories.member(name="农历", birthday=datetime.date(1985, 9, 29), birthday_calendar="lunar")
    factories.member(name="别人", birthday=datetime.date(1990, 5, 24))
    # when the job runs on 20 May (3 days before 23 May) and on 22 September (3 before mid-autumn 2026)
    assert coupons_issue_by_rules(day=datetime.date(2026, 5, 20))["birthday"].issued == 1
    assert coupons_issue_by_rules(day=datetime.date(2026, 9, 22))["birthday"].issued == 1
    # then, run again, nothing more
    assert coupons_issue_by_rules(day=datetime.date(2026, 5, 20))["birthday"].already == 1
    assert sorted(Coupon.objects.values_list("member__name", flat=True)) == sorted([solar.name, lunar.name])


def test_new_member_rule_and_level_filter(store, off50):
    CouponRule.objects.create(name="新会员礼", trigger="new_member", template=off50)
    member = factories.member(name="新人")
    today = member.enrolled_at.astimezone(local(2026, 1, 1).tzinfo).date()
    assert coupons_issue_by_rules(day=today)["new_member"].issued == 1
    assert coupons_issue_by_rules(day=today)["new_member"].issued == 0
    assert coupons_issue_by_rules(day=today + datetime.timedelta(days=1))["new_member"].issued == 0


def test_member_day_rule_issues_on_member_days_only(store, off50):
    MemberDay.objects.create(name="每月8日会员日", day_of_month=8, discount_percent=Decimal(2))
    gold = Tier.objects.get(code="gold")
    CouponRule.objects.create(name="会员日券", trigger="member_day", template=off50, tier=gold)
    vip, plain = factories.member(name="金卡"), factories.member(name="普通")
    MemberTier.objects.create(member=vip, tier=gold, since=local(2026, 1, 1))
    assert coupons_issue_by_rules(day=datetime.date(2026, 3, 7)).get("member_day").issued == 0
    assert coupons_issue_by_rules(day=datetime.date(2026, 3, 8))["member_day"].issued == 1
    assert coupons_issue_by_rules(day=datetime.date(2026, 3, 8))["member_day"].issued == 0
    assert plain.coupons.count() == 0 and vip.coupons.count() == 1


def test_level_up_rule_at_once_and_by_the_job_issues_once(store, off50, ops_manager, member):
    gold = Tier.objects.get(code="gold")
    CouponRule.objects.create(name="升金卡礼", trigger="level_up", template=off50, tier=gold)
    change = tier_set(member=member, tier=gold, note="VIP", set_by=ops_manager.user)
    assert len(coupons_issue_for_level_up(change=change)) == 1
    day = change.changed_at.astimezone(local(2026, 1, 1).tzinfo).date()
    assert coupons_issue_by_rules(day=day)["level_up"].already == 1
    assert member.coupons.count() == 1
    tier_set(member=member, tier=Tier.objects.get(code="silver"), note="down", set_by=ops_manager.user)
    assert coupons_issue_by_rules(day=day)["level_up"].issued == 0  # a downgrade gives nothing


def test_offers_issue_command_prints_the_report(store, birthday_gift, capsys):
    CouponRule.objects.create(name="生日礼", trigger="birthday", template=birthday_gift)
    factories.member(name="阳历", birthday=datetime.date(1990, 5, 20))
    call_command("offers", "issue", "--date", "2026-05-20")
    assert '"birthday": {"issued": 1' in capsys.readouterr().out


# --- at the till --------------------------------------------------------------------------------------

def test_coupons_for_checkout_refuses_with_a_reason_per_coupon(member, off50):
    other = factories.member(name="王芳")
    mine = issue(off50, member, key="mine", at=local(2026, 3, 1))
    theirs = issue(off50, other, key="theirs", at=local(2026, 3, 1))
    at = local(2026, 3, 5)

    def refusal(codes, when=at):
        with pytest.raises(OfferRefused) as refused:
            coupons_for_checkout(member=member, codes=codes, at=when, lock=False)
        return refused.value.code, refused.value.field

    assert coupons_for_checkout(member=member, codes=[mine.code], at=at, lock=False) == [mine]
    assert refusal(["NOPE"]) == ("coupon_not_found", "coupons[0]")
    assert refusal([mine.code, theirs.code]) == ("coupon_not_yours", "coupons[1]")
    assert refusal([mine.code, mine.code]) == ("coupon_duplicate", "coupons[1]")
    assert refusal([mine.code], when=local(2026, 3, 31, 0)) == ("coupon_expired", "coupons[0]")
    assert refusal([mine.code], when=local(2026, 2, 28)) == ("coupon_not_yet_valid", "coupons[0]")


def test_coupon_is_redeemed_exactly_once(member, store, off50):
    coupon = issue(off50, member)
    sale = factories.sale(member, store, 40000, sold_at=local(2026, 3, 2))
    coupons_redeem(coupons=[coupon], discounts={coupon.code: 5000}, sale=sale, at=local(2026, 3, 2))
    coupon.refresh_from_db()
    assert coupon.status == "redeemed" and coupon.redemption.discount_fen == 5000
    with pytest.raises(OfferRefused) as refused:
        coupons_for_checkout(member=member, codes=[coupon.code], at=local(2026, 3, 3), lock=False)
    assert refused.value.code == "coupon_used"
    with pytest.raises(OfferRefused):  # a stale copy of the row still cannot be used again
        coupons_redeem(coupons=[Coupon(pk=coupon.pk, code=coupon.code)], discounts={}, sale=sale,
                       at=local(2026, 3, 3))
    # and the database itself refuses a second redemption of the coupon
    with pytest.raises(IntegrityError), transaction.atomic():
        CouponRedemption.objects.create(coupon=coupon, member=member, sale=sale, store=store, discount_fen=0,
                                        redeemed_at=local(2026, 3, 3))


def test_coupon_reissue_for_refund_once_for_the_time_left(member, store, off50):
    coupon = issue(off50, member, at=local(2026, 3, 1))  # lapses 31 March 00:00
    sale = factories.sale(member, store, 40000, sold_at=local(2026, 3, 21))
    [redemption] = coupons_redeem(coupons=[coupon], discounts={coupon.code: 5000}, sale=sale, at=local(2026, 3, 21))
    refund = refund_record(sale=sale, refund_no="T1", refunded_at=local(2026, 3, 25))
    new = coupon_reissue_for_refund(redemption=redemption, refund=refund, at=local(2026, 3, 25))
    assert new.reissued_from == coupon and new.source == "reissue" and new.status == "issued"
    assert new.valid_until - new.valid_from == local(2026, 3, 31, 0) - local(2026, 3, 21)  # 9 days 12 hours
    assert coupon_reissue_for_refund(redemption=redemption, refund=refund, at=local(2026, 3, 26)) == new
    off50.reissue_on_refund = False
    off50.save()
    other = issue(off50, member, key="k2")
    sale2 = factories.sale(member, store, 40000, sold_at=local(2026, 3, 21))
    [r2] = coupons_redeem(coupons=[other], discounts={}, sale=sale2, at=local(2026, 3, 21))
    refund2 = refund_record(sale=sale2, refund_no="T2", refunded_at=local(2026, 3, 25))
    assert coupon_reissue_for_refund(redemption=r2, refund=refund2) is None


def test_coupon_void_only_unused_with_a_reason(member, off50, ops_manager, cashier):
    coupon = issue(off50, member)
    with pytest.raises(PermissionDenied):
        coupon_void(coupon=coupon, voided_by=cashier.user, reason="错发")
    with pytest.raises(ValidationError):
        coupon_void(coupon=coupon, voided_by=ops_manager.user, reason=" ")
    assert coupon_void(coupon=coupon, voided_by=ops_manager.user, reason="错发").status == "void"
    with pytest.raises(ValidationError):
        coupon_void(coupon=coupon, voided_by=ops_manager.user, reason="again")


# --- benefits ---------------------------------------------------------------------------------------------

def test_birthday_percent_comes_from_the_level_within_the_policy_window(store):
    member = factories.member(name="寿星", birthday=datetime.date(1990, 5, 20))
    gold = Tier.objects.get(code="gold")  # 5% extra on the birthday (default ladder)
    assert selectors.birthday_percent(member, gold, datetime.date(2026, 5, 20)) == Decimal(5)
    assert selectors.birthday_percent(member, gold, datetime.date(2026, 5, 21)) == 0
    assert selectors.birthday_percent(member, None, datetime.date(2026, 5, 20)) == 0  # no level, no default
    OffersPolicy.objects.update_or_create(pk=1, defaults={"birthday_window": "month",
                                                          "birthday_default_percent": Decimal(2)})
    assert selectors.birthday_percent(member, None, datetime.date(2026, 5, 2)) == Decimal(2)


def test_member_day_percent_takes_the_best_day_the_level_allows(db):
    gold = Tier.objects.get(code="gold")
    MemberDay.objects.create(name="周三会员日", weekday=2, discount_percent=Decimal(2))
    MemberDay.objects.create(name="金卡周三", weekday=2, discount_percent=Decimal(5), min_tier=gold)
    wednesday = datetime.date(2026, 3, 4)
    assert selectors.member_day_percent(wednesday, None)[0] == Decimal(2)
    assert selectors.member_day_percent(wednesday, gold)[0] == Decimal(5)
    assert selectors.member_day_percent(wednesday + datetime.timedelta(days=1), gold) == (0, None)
