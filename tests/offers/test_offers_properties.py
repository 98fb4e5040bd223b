"""Any sequence of issuing, redeeming (alone or stacked), refunding, reissuing and retries keeps the
coupon rules: a coupon is used at most once, a refused checkout uses none of its coupons, the
per-member limits hold, a coupon is reissued at most once, and every price is consistent."""

import datetime
import itertools

from django.core.exceptions import ValidationError
from django.db.models import Count
from hypothesis import given
from hypothesis import strategies as st

from tests import factories
from tests.loyalty.helpers import LEDGER_SETTINGS, at, rolled_back
from tests.offers.conftest import template
from vipcare.offers.choices import CouponSource, CouponStatus
from vipcare.offers.models import Coupon, CouponRedemption
from vipcare.offers.pricing import OfferRefused, price
from vipcare.offers.selectors import coupon_offer
from vipcare.offers.services import coupon_issue, coupon_reissue_for_refund, coupons_for_checkout, coupons_redeem
from vipcare.sales.services import refund_record

keys = st.sampled_from([f"k{i}" for i in range(6)])  # a small pool: retries happen
operations = st.lists(st.one_of(
    st.tuples(st.just("advance"), st.integers(0, 40)),
    st.tuples(st.just("issue"), st.integers(0, 2), keys),
    st.tuples(st.just("checkout"), st.integers(100, 80000), st.lists(st.integers(0, 20), max_size=3)),
    st.tuples(st.just("refund"), st.integers(0, 9)),
), max_size=25)


def coupon_state() -> tuple:
    return (tuple(Coupon.objects.order_by("pk").values_list("status", flat=True)),
            CouponRedemption.objects.count())


@LEDGER_SETTINGS
@given(ops=operations)
def test_coupon_rules_hold_for_any_sequence(member, store, ops):
    with rolled_back():
        templates = [
            template("off50", per_member_limit=2, limit_period="month", priority=20),
            template("pct10", kind="percent_off", percent=10, amount_fen=0, cap_fen=3000, min_spend_fen=0,
                     valid_days=10, priority=10, reissue_on_refund=False),
            template("solo", kind="amount_off", amount_fen=8000, min_spend_fen=0, stacking="exclusive",
                     valid_days=5, per_member_limit=1),
        ]
        now, sales, receipt = at(), [], itertools.count(1)
        for op in ops:
            before = coupon_state()
            kind = op[0]
            if kind == "advance":
                now += datetime.timedelta(days=op[1], hours=1)
            elif kind == "issue":
                t = templates[op[1]]
                try:
                    coupon = coupon_issue(template=t, member=member, issue_key=op[2], source=CouponSource.RULE,
                                          at=now)
                    assert coupon.issue_key == op[2]
                except ValidationError:
                    assert coupon_state() == before  # over the limit, or the key names another coupon
            elif kind == "checkout":
                codes = list(Coupon.objects.order_by("pk").values_list("code", flat=True))
                picked = [codes[i % len(codes)] for i in op[2]] if codes else []
                try:
                    coupons = coupons_for_checkout(member=member, codes=picked, at=now, lock=True)
                    result = price([op[1]], coupons=[coupon_offer(c) for c in coupons])
                except OfferRefused:
                    assert coupon_state() == before
                    continue
                # a consistent price: never negative, discounts add up, an exclusive coupon is alone
                assert 0 <= result.total_fen <= op[1]
                assert result.total_fen == result.gross_fen - sum(s.discount_fen for s in result.steps)
                assert not any(c.template.stacking == "exclusive" for c in coupons) or len(coupons) == 1
                assert all(c.is_live(now) for c in coupons)
                sale = factories.sale(member, store, op[1], sold_at=now, receipt_no=f"P{next(receipt)}")
                coupons_redeem(coupons=coupons, discounts={s.coupon: s.discount_fen for s in result.steps},
                               sale=sale, at=now)
                sales.append(sale)
            elif kind == "refund" and sales:
                sale = sales[op[1] % len(sales)]
                if sale.refunds.exists():
                    continue
                refund = refund_record(sale=sale, refund_no=f"F{next(receipt)}", refunded_at=now)
                for redemption in CouponRedemption.objects.filter(sale=sale):
                    new = coupon_reissue_for_refund(redemption=redemption, refund=refund, at=now)
                    assert coupon_reissue_for_refund(redemption=redemption, refund=refund, at=now) == new  # retry
            # exactly once: a coupon is redeemed if and only if it has its one redemption
            redeemed = set(Coupon.objects.filter(status=CouponStatus.REDEEMED).values_list("pk", flat=True))
            assert redeemed == set(CouponRedemption.objects.values_list("coupon_id", flat=True))
            # limits: never more than allowed per member (reissues do not count)
            for t in templates:
                issued = Coupon.objects.filter(template=t).exclude(source=CouponSource.REISSUE)
                if t.limit_period == "ever" and t.per_member_limit:
                    assert issued.count() <= t.per_member_limit
                if t.limit_period == "month":
                    per_month = {}
                    for when in issued.values_list("issued_at", flat=True):
                        month = (when + datetime.timedelta(hours=8)).strftime("%Y-%m")
                        per_month[month] = per_month.get(month, 0) + 1
                    assert all(n <= t.per_member_limit for n in per_month.values())
            # reissued at most once per used coupon, and only for templates that reissue
            assert not Coupon.objects.filter(source=CouponSource.REISSUE).values("reissued_from") \
                .annotate(n=Count("pk")).filter(n__gt=1).exists()
            assert not Coupon.objects.filter(source=CouponSource.REISSUE, template__reissue_on_refund=False).exists()
