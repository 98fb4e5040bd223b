"""The programme's part of the demo: the offers a mall starts with (coupon templates and the rules
that issue them, a member day, top-up plans), cards loaded by the best customers, coupons in
members' hands, and yesterday's checkouts at the till paid partly with points and stored value.

Everything goes through the services a real installation uses (`vipcare.demo.programme` calls
this), so the member 360 panels, the card and the Programme page show something true on first
start. Deterministic for a seed, apart from the coupon codes, which are random by design.
"""

import datetime
import random
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q, Sum
from django.utils import timezone

TEMPLATES = [
    # code, name, kind, amount off, percent, cap, min spend, gift, days, per member, period, stacking, priority
    ("off50", "满300减50", "amount_off", 5000, 0, None, 30000, "", 30, 0, "ever", "combinable", 20),
    ("member-day-10", "会员日九折券", "percent_off", 0, 10, 10000, 0, "", 7, 1, "month", "exclusive", 10),
    ("birthday-gift", "生日礼", "gift", 0, 0, None, 0, "生日蛋糕券一张", 30, 1, "year", "combinable", 50),
    ("welcome-20", "新会员礼 满100减20", "amount_off", 2000, 0, None, 10000, "", 30, 1, "ever", "combinable", 30),
]
RECEIPT = "DEMO-TILL-"  # the demo's own checkouts, left out when ranking members by spend
PLANS = [("充1000送200", 100000, 20000), ("充3000送900", 300000, 90000), ("充100送80", 10000, 8000)]


def _templates():
    from vipcare.offers.models import CouponTemplate

    rows = {}
    for code, name, kind, amount, percent, cap, min_spend, gift, days, limit, period, stacking, priority in TEMPLATES:
        row = CouponTemplate.objects.filter(code=code).first() or CouponTemplate(code=code)
        row.name, row.kind, row.amount_fen, row.percent, row.cap_fen = name, kind, amount, Decimal(percent), cap
        row.min_spend_fen, row.gift, row.valid_days, row.per_member_limit = min_spend, gift, days, limit
        row.limit_period, row.stacking, row.priority = period, stacking, priority
        row.full_clean()
        row.save()
        rows[code] = row
    return rows


def programme_demo(*, as_of: datetime.date, seed: int = 1, write=print) -> dict:
    from vipcare.loyalty.models import MemberTier, Tier
    from vipcare.members.choices import MemberStatus
    from vipcare.members.models import Member
    from vipcare.offers.models import CouponRule, MemberDay
    from vipcare.offers.selectors import live_coupons
    from vipcare.offers.services import coupon_issue_bulk
    from vipcare.till.services import TillLine, TillRefused, spendable_points, till_checkout
    from vipcare.wallet.models import TopUpPlan
    from vipcare.wallet.services import wallet_top_up

    rng = random.Random(seed)
    templates = _templates()
    gold = Tier.objects.filter(code="gold").first()
    silver = Tier.objects.filter(code="silver").first()
    for name, trigger, template, tier, days in [("生日提前7天送礼", "birthday", "birthday-gift", None, 7),
                                                ("新会员礼", "new_member", "welcome-20", None, 0),
                                                ("升金卡礼", "level_up", "off50", gold, 0),
                                                ("会员日九折券", "member_day", "member-day-10", silver, 0)]:
        CouponRule.objects.get_or_create(name=name, defaults={"trigger": trigger, "template": templates[template],
                                                              "tier": tier, "days_before": days})
    MemberDay.objects.get_or_create(name="每月8日会员日", defaults={"day_of_month": 8, "discount_percent": Decimal(2)})
    plans = [TopUpPlan.objects.get_or_create(name=name, defaults={"pay_fen": pay, "bonus_fen": bonus})[0]
             for name, pay, bonus in PLANS]

    # the best tenth of the members load a card, some of them twice
    noon = timezone.make_aware(datetime.datetime.combine(as_of, datetime.time(12)))
    ranked = list(Member.objects.filter(status=MemberStatus.ACTIVE, home_store__isnull=False)
                  .annotate(spend=Sum("sales__total_fen", filter=~Q(sales__receipt_no__startswith=RECEIPT)))
                  .filter(spend__gt=0).order_by("-spend", "pk")
                  .select_related("home_store")[:max(10, Member.objects.count() // 10)])
    top_ups = 0
    for i, member in enumerate(ranked):
        for n in range(1 + (i % 3 == 0)):
            at = noon - datetime.timedelta(days=rng.randint(20, 400))
            wallet_top_up(member=member, plan=plans[(i + n) % 2], idempotency_key=f"demo-top-up-{n}",
                          store=member.home_store, at=at)
            top_ups += 1
    write(f"  {top_ups:,} stored-value top-ups by {len(ranked):,} members")

    # a campaign: ¥50 off from ¥300 for everyone at silver and above
    at_level = MemberTier.objects.filter(tier__rank__gte=silver.rank if silver else 0).values_list("member_id",
                                                                                                   flat=True)
    coupons = coupon_issue_bulk(template=templates["off50"], member_ids=at_level, key=lambda m: f"demo:anniversary:{m}",
                                at=noon - datetime.timedelta(days=10), note="周年庆")
    write(f"  {coupons.issued:,} anniversary coupons")

    # yesterday at the till: points, stored value and coupons at work
    yesterday = noon - datetime.timedelta(days=1)
    checkouts = 0
    for i, member in enumerate(ranked[:40]):
        coupon = live_coupons(member, at=yesterday).first()
        price = rng.choice([39900, 59900, 89900, 129900])
        try:
            till_checkout(store=member.home_store, member=member, receipt_no=f"{RECEIPT}{i:04d}",
                          sold_at=yesterday + datetime.timedelta(minutes=7 * i),
                          lines=[TillLine(unit_price_fen=price, quantity=1, brand=member.home_store.brand)],
                          coupon_codes=[coupon.code] if coupon and i % 2 == 0 else [], stored_value_fen=price // 4,
                          points=500 if spendable_points(member, yesterday) >= 500 else 0)
            checkouts += 1
        except (TillRefused, ValidationError):  # refused, or already there from an earlier run
            continue
    write(f"  {checkouts:,} checkouts at the till yesterday")
    return {"top_ups": top_ups, "coupons": coupons.issued, "checkouts": checkouts}
