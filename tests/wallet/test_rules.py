from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vipcare.wallet import rules
from vipcare.wallet.models import TopUpPlan


def test_split_payment_pro_rata_bonus_rounded_down():
    # a card loaded "pay ¥100, get ¥180": 10000 principal, 8000 bonus
    assert rules.split_payment(1800, 10000, 8000) == (1000, 800)
    assert rules.split_payment(1, 10000, 8000) == (1, 0)
    assert rules.split_payment(18000, 10000, 8000) == (10000, 8000)


def test_split_payment_refuses_more_than_the_balance():
    with pytest.raises(ValueError):
        rules.split_payment(18001, 10000, 8000)


@given(principal=st.integers(0, 10**7), bonus=st.integers(0, 10**7), data=st.data())
def test_split_payment_never_takes_more_than_either_part(principal, bonus, data):
    if principal + bonus == 0:
        return
    amount = data.draw(st.integers(1, principal + bonus))
    p, b = rules.split_payment(amount, principal, bonus)
    assert p + b == amount and 0 <= p <= principal and 0 <= b <= bonus


@given(paid_p=st.integers(0, 10**6), paid_b=st.integers(0, 10**6), cuts=st.lists(st.integers(1, 10**6), max_size=6))
def test_split_refund_in_parts_returns_exactly_what_was_paid(paid_p, paid_b, cuts):
    paid = paid_p + paid_b
    if paid == 0:
        return
    refunded, back_p, back_b = 0, 0, 0
    for cut in [*cuts, paid]:
        amount = min(cut, paid - refunded)
        if amount == 0:
            break
        p, b = rules.split_refund(paid_p, paid_b, refunded, amount)
        refunded, back_p, back_b = refunded + amount, back_p + p, back_b + b
        assert 0 <= back_p <= paid_p and 0 <= back_b <= paid_b
    assert (back_p, back_b) == (paid_p, paid_b)


def test_top_up_plan_effective_discount_and_yearly_cost():
    plan = TopUpPlan(name="充100送80", pay_fen=10000, bonus_fen=8000)
    assert plan.effective_discount == Fraction(5, 9)  # ≈ 0.556: a 5.6折 price
    assert plan.effective_price_fen(250) == 139
    assert plan.yearly_cost(members=500, top_ups_per_year=12) == 500 * 12 * 8000


def test_internet_cafe_case_from_the_documents():
    """SPEC C4 / seed 001: an internet café's gold members (充100送80, member price ¥2.5/h against
    the list price of ¥3/h) cost about ¥900,000 a year."""
    plan = TopUpPlan(name="黄金会员 充100送80", pay_fen=10000, bonus_fen=8000)
    # the effective price: ¥2.5 × 100/180 ≈ ¥1.39 an hour (the documents round it to about ¥1.3)
    effective = plan.effective_price_fen(250)
    assert effective == 139
    # the documents' costing: 300 gold members a day × 5 h = 1,500 h a day at (¥3 − ¥1.3) off, 30 × 12 days
    documents = rules.yearly_discount_cost_fen(list_price_fen=300, effective_price_fen=130, units_per_day=1500)
    assert documents == 91_800_000  # ¥918,000: "约90万元"
    # the same from the plan: 1,500 h × ¥2.5 = ¥3,750 of card value used a day, i.e. 7,500 top-ups a
    # year among 500 members (15 each); the bonus given away plus the member price discount:
    top_ups_each = 1500 * 250 * 360 / plan.pay_fen / 500 * plan.pay_fen / (plan.pay_fen + plan.bonus_fen)
    bonus_cost = plan.yearly_cost(members=500, top_ups_per_year=top_ups_each)
    price_cost = rules.yearly_discount_cost_fen(list_price_fen=300, effective_price_fen=250, units_per_day=1500)
    assert top_ups_each == 15
    assert bonus_cost + price_cost == 87_000_000  # ¥870,000
    assert abs(bonus_cost + price_cost - 90_000_000) / 90_000_000 < 0.05  # "about ¥900k"
