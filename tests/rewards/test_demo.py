"""The rewards' part of the demo: a catalogue, some redemptions, once, with clean ledgers."""

import datetime

from django.core.management import call_command

from tests import factories
from vipcare.loyalty.services import points_earn
from vipcare.offers.models import CouponTemplate
from vipcare.rewards.demo import rewards_demo
from vipcare.rewards.models import Redemption, Reward


def test_rewards_demo_sets_up_a_catalogue_and_redeems_once(store):
    # given members with points and the demo's coupon template
    CouponTemplate.objects.create(code="off50", name="满300减50", kind="amount_off", amount_fen=5000,
                                  min_spend_fen=30000, valid_days=30)
    for i in range(6):
        member = factories.member(name=f"会员{i}", home_store=store)
        points_earn(member=member, points=3000 + 500 * i, idempotency_key="opening")
    as_of = datetime.date.today()
    # when the demo's rewards step runs twice
    first = rewards_demo(as_of=as_of, write=lambda _text: None)
    rewards_demo(as_of=as_of, write=lambda _text: None)
    # then the catalogue exists once, with gifts in stock and a coupon for points, and each member redeemed once
    assert Reward.objects.count() == 5 and Reward.objects.filter(kind="coupon").count() == 1
    assert first == {"rewards": 5, "redeemed": 6}
    assert Redemption.objects.count() == 6
    assert Redemption.objects.filter(status="redeemed").exists() and Redemption.objects.filter(
        status="handed_over").exists()
    assert all(r.stock >= 0 for r in Reward.objects.exclude(stock=None))
    call_command("check", "ledgers")
