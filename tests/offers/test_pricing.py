"""The till's price rules, without a database: order of application, rounding, caps, stacking."""

import datetime
from decimal import Decimal

import pytest

from vipcare.members.birthdays import next_celebration
from vipcare.offers import occasions
from vipcare.offers.pricing import CouponOffer, OfferRefused, allocate, percent_of, price


def amount_off(code="A", amount=5000, min_spend=0, template=1, priority=100, stacking="combinable"):
    return CouponOffer(code=code, template_id=template, kind="amount_off", amount_fen=amount, min_spend_fen=min_spend,
                       priority=priority, stacking=stacking)


def percent_off(code="P", percent="10", cap=None, template=2, priority=100, stacking="combinable", min_spend=0):
    return CouponOffer(code=code, template_id=template, kind="percent_off", percent=Decimal(percent), cap_fen=cap,
                       priority=priority, stacking=stacking, min_spend_fen=min_spend)


def test_price_applies_level_then_birthday_then_member_day_then_coupons():
    # given a gold member (5%) on her birthday (+5%) on a member day (+2%) with ¥50 off from ¥300
    result = price([40000], level_percent=Decimal(5), birthday_percent=Decimal(5), member_day_percent=Decimal(2),
                   coupons=[amount_off(amount=5000, min_spend=30000)])
    # then each step works on what the steps before it left
    assert [(s.kind, s.discount_fen) for s in result.steps] == [
        ("level", 2000), ("birthday", 1900), ("member_day", 722), ("coupon", 5000)]
    assert result.total_fen == 40000 - 2000 - 1900 - 722 - 5000 == 30378
    assert result.gross_fen == 40000


def test_percent_discounts_round_down_per_line():
    result = price([999, 1001], level_percent=Decimal("3.5"))
    assert result.steps[0].per_line == (34, 35)  # 34.965 and 35.035, both down
    assert result.total_fen == 2000 - 69


def test_percent_coupon_is_capped():
    assert price([100000], coupons=[percent_off(percent="20", cap=10000)]).total_fen == 90000
    assert price([30000], coupons=[percent_off(percent="20", cap=10000)]).total_fen == 24000


def test_amount_off_never_takes_more_than_the_sale():
    result = price([3000], coupons=[amount_off(amount=5000)])
    assert result.total_fen == 0 and result.steps[0].discount_fen == 3000


def test_coupon_amount_is_spread_over_lines_in_proportion():
    result = price([10000, 20000, 30001], coupons=[amount_off(amount=5000)])
    assert sum(result.steps[0].per_line) == 5000
    assert result.steps[0].per_line == (833, 1667, 2500)  # 833.3, 1666.6, 2500.04: largest remainder
    assert result.line_discounts() == result.steps[0].per_line


def test_coupons_apply_by_priority_then_scan_order():
    # the percent coupon has the lower priority number, so it goes first although scanned second
    coupons = [amount_off(code="A", amount=5000, priority=20), percent_off(code="P", percent="10", priority=10)]
    result = price([100000], coupons=coupons)
    assert [s.coupon for s in result.steps] == ["P", "A"]
    assert result.total_fen == 100000 - 10000 - 5000


def test_min_spend_is_checked_at_the_coupons_turn():
    # ¥300 spend needed; a 10% level discount brings ¥320 to ¥288 before the coupon's turn
    with pytest.raises(OfferRefused) as refused:
        price([32000], level_percent=Decimal(10), coupons=[amount_off(min_spend=30000)])
    assert (refused.value.code, refused.value.field) == ("coupon_min_spend", "coupons[0]")


def test_exclusive_coupon_cannot_be_combined():
    with pytest.raises(OfferRefused) as refused:
        price([100000], coupons=[amount_off(), percent_off(code="X", stacking="exclusive")])
    assert (refused.value.code, refused.value.field) == ("coupon_not_combinable", "coupons[1]")
    assert price([100000], coupons=[percent_off(stacking="exclusive")]).total_fen == 90000


def test_two_coupons_of_one_template_cannot_be_combined():
    with pytest.raises(OfferRefused) as refused:
        price([100000], coupons=[amount_off(code="A1"), amount_off(code="A2")])
    assert refused.value.field == "coupons[1]"


def test_gift_coupon_takes_nothing_off_and_names_the_gift():
    gift = CouponOffer(code="G", template_id=3, kind="gift", gift="丝巾一条")
    result = price([10000], coupons=[gift])
    assert result.total_fen == 10000 and result.steps[0].gift == "丝巾一条"


@pytest.mark.parametrize("total,weights", [(0, [5, 5]), (7, [1, 2, 4]), (10, [3, 3, 4]), (9, [0, 9, 0]),
                                           (100, [33, 33, 34])])
def test_allocate_sums_exactly_and_never_exceeds_a_weight(total, weights):
    shares = allocate(total, weights)
    assert sum(shares) == total
    assert all(0 <= s <= w for s, w in zip(shares, weights, strict=True))


def test_percent_of_rounds_down():
    assert percent_of(1999, Decimal("12.5")) == 249


# --- occasions ---------------------------------------------------------------------------------------

def test_birthday_window_day_week_month_for_a_solar_birthday():
    born = datetime.date(1990, 5, 20)  # Wednesday 20 May 2026
    assert occasions.in_birthday_window(born, "solar", datetime.date(2026, 5, 20), "day")
    assert not occasions.in_birthday_window(born, "solar", datetime.date(2026, 5, 21), "day")
    assert occasions.in_birthday_window(born, "solar", datetime.date(2026, 5, 18), "week")  # Monday
    assert occasions.in_birthday_window(born, "solar", datetime.date(2026, 5, 24), "week")  # Sunday
    assert not occasions.in_birthday_window(born, "solar", datetime.date(2026, 5, 25), "week")
    assert occasions.in_birthday_window(born, "solar", datetime.date(2026, 5, 1), "month")
    assert not occasions.in_birthday_window(born, "solar", datetime.date(2026, 6, 1), "month")


def test_birthday_window_follows_the_lunar_calendar():
    born = datetime.date(1985, 9, 29)  # 八月十五 (mid-autumn) in 1985
    celebration = next_celebration(born, "lunar", datetime.date(2026, 1, 1))
    assert celebration == datetime.date(2026, 9, 25)  # mid-autumn 2026
    assert occasions.in_birthday_window(born, "lunar", celebration, "day")
    assert not occasions.in_birthday_window(born, "lunar", datetime.date(2026, 9, 29), "day")  # the solar date
    assert occasions.in_birthday_window(born, "solar", datetime.date(2026, 9, 29), "day")


def test_no_birthday_no_benefit():
    assert not occasions.in_birthday_window(None, "solar", datetime.date(2026, 5, 20), "month")


@pytest.mark.parametrize("born,calendar", [(datetime.date(1990, 5, 20), "solar"), (datetime.date(1992, 2, 29), "solar"),
                                           (datetime.date(1985, 9, 29), "lunar"), (datetime.date(1987, 2, 27), "lunar"),
                                           (datetime.date(1990, 12, 31), "solar")])
@pytest.mark.parametrize("window", ["day", "week", "month"])
def test_member_window_by_birthday_key_agrees_with_the_dates(born, calendar, window):
    from vipcare.members.birthdays import birthday_key

    key = birthday_key(born, calendar)
    for offset in range(0, 366, 5):
        day = datetime.date(2026, 1, 1) + datetime.timedelta(days=offset)
        assert occasions.member_in_birthday_window(key, day, window) == \
            occasions.in_birthday_window(born, calendar, day, window), (day, window)
