"""The programme's part of the demo: offers configured, cards loaded, coupons out, yesterday's
checkouts — through the services, with clean ledgers, and idempotent when run again."""

import datetime

from django.core.management import call_command

from tests import factories
from vipcare.loyalty.models import MemberTier, Tier
from vipcare.loyalty.services import points_earn
from vipcare.offers.models import Coupon, CouponRule, CouponTemplate
from vipcare.programme.demo import programme_demo
from vipcare.till.models import Checkout
from vipcare.wallet.models import WalletEntry


def test_programme_demo_configures_offers_loads_cards_and_checks_out(store):
    # given members with purchases, some at a level and with points
    as_of = datetime.date.today()
    silver = Tier.objects.get(code="silver")
    for i in range(12):
        member = factories.member(name=f"会员{i}", home_store=store)
        factories.sale(member, store, 50000 + 1000 * i)
        points_earn(member=member, points=2000, idempotency_key="opening")
        if i % 2:
            MemberTier.objects.create(member=member, tier=silver, since=datetime.datetime.now(datetime.UTC))
    # when the demo's programme step runs, twice
    first = programme_demo(as_of=as_of, write=lambda _text: None)
    programme_demo(as_of=as_of, write=lambda _text: None)
    # then the offers exist once, cards were loaded, coupons issued, checkouts made
    assert CouponTemplate.objects.count() == 4 and CouponRule.objects.count() == 4
    assert first["top_ups"] > 0 and first["coupons"] == 6 and first["checkouts"] > 0
    assert WalletEntry.objects.filter(kind="top_up").count() == first["top_ups"]
    assert Coupon.objects.filter(note="周年庆").count() == 6
    assert Checkout.objects.count() == first["checkouts"]
    assert Checkout.objects.filter(points_paid__gt=0).exists() and Checkout.objects.filter(
        stored_value_paid_fen__gt=0).exists()
    call_command("check", "ledgers")
