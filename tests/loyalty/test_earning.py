import datetime
from decimal import Decimal

import pytest

from vipcare.loyalty import earning
from vipcare.loyalty.earning import Campaign, EarnLine, Multiplier, points_for_sale

DAY = datetime.date(2026, 3, 8)


def test_points_for_sale_base_rate_rounds_down_per_line():
    # given two lines of ¥99.99 and ¥0.50 at 1 point per yuan
    lines = [EarnLine("a", 9999), EarnLine("b", 50)]
    # when
    result = points_for_sale(lines=lines, sold_on=DAY, points_per_yuan=Decimal(1))
    # then each line rounds down on its own
    assert result.per_line == {"a": 99, "b": 0}
    assert result.total == 99


def test_points_for_sale_applies_brand_multiplier_highest_wins_not_stacked():
    line = EarnLine("1", 10000, brand="Lancôme", category="cosmetics")
    rules = [Multiplier(Decimal(3), category="cosmetics"), Multiplier(Decimal(2), brand="Lancôme"),
             Multiplier(Decimal(5), brand="Other")]
    assert points_for_sale(lines=[line], sold_on=DAY, points_per_yuan=Decimal(1), multipliers=rules).total == 300


def test_points_for_sale_campaign_counts_only_inside_its_dates():
    double = Campaign(Decimal(2), starts_on=datetime.date(2026, 3, 1), ends_on=datetime.date(2026, 3, 8))
    line = [EarnLine("1", 10000)]
    assert points_for_sale(lines=line, sold_on=DAY, points_per_yuan=Decimal(1), campaigns=[double]).total == 200
    after = DAY + datetime.timedelta(days=1)
    assert points_for_sale(lines=line, sold_on=after, points_per_yuan=Decimal(1), campaigns=[double]).total == 100
    before = datetime.date(2026, 2, 28)
    assert points_for_sale(lines=line, sold_on=before, points_per_yuan=Decimal(1), campaigns=[double]).total == 100


def test_points_for_sale_campaign_can_target_a_category():
    cosmetics = Campaign(Decimal(3), category="cosmetics", starts_on=DAY, ends_on=DAY)
    lines = [EarnLine("c", 10000, category="cosmetics"), EarnLine("f", 10000, category="fashion")]
    result = points_for_sale(lines=lines, sold_on=DAY, points_per_yuan=Decimal(1), campaigns=[cosmetics])
    assert result.per_line == {"c": 300, "f": 100}


def test_points_for_sale_applies_level_multiplier_last_with_one_rounding():
    # given ¥33.33, 1.5 points per yuan, cosmetics ×3, double points, gold ×1.5
    line = EarnLine("1", 3333, category="cosmetics")
    result = points_for_sale(
        lines=[line], sold_on=DAY, points_per_yuan=Decimal("1.5"),
        multipliers=[Multiplier(Decimal(3), category="cosmetics")],
        campaigns=[Campaign(Decimal(2), starts_on=DAY, ends_on=DAY)], level_multiplier=Decimal("1.5"),
    )
    # then 33.33 × 1.5 × 3 × 2 × 1.5 = 449.955 → 449 (rounding each step would give 447)
    assert result.total == 449


def test_points_for_sale_zero_and_free_lines_earn_nothing():
    assert points_for_sale(lines=[EarnLine("1", 0)], sold_on=DAY, points_per_yuan=Decimal(1)).total == 0


def test_refund_claim_is_proportional_per_line_and_whole_refund_claims_all():
    points = {"1": 300, "2": 100}
    amounts = {"1": 10000, "2": 10000}
    assert earning.refund_claim(line_points=points, line_amounts=amounts, refunded={"1": 5000}) == 150
    assert earning.refund_claim(line_points=points, line_amounts=amounts, refunded={"2": 3333}) == 33
    assert earning.refund_claim(line_points=points, line_amounts=amounts, refunded=amounts) == 400


@pytest.mark.parametrize(("start", "months", "expected"), [
    (datetime.datetime(2026, 1, 31, 8, 0), 1, datetime.datetime(2026, 2, 28, 8, 0)),
    (datetime.datetime(2024, 1, 31, 8, 0), 1, datetime.datetime(2024, 2, 29, 8, 0)),
    (datetime.datetime(2026, 3, 15, 8, 0), 12, datetime.datetime(2027, 3, 15, 8, 0)),
    (datetime.datetime(2026, 11, 30, 8, 0), 3, datetime.datetime(2027, 2, 28, 8, 0)),
])
def test_add_months_keeps_the_day_or_takes_the_months_last(start, months, expected):
    assert earning.add_months(start, months) == expected
