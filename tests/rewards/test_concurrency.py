"""Many service desks redeem the last units of one gift at once, some retrying the same request:
stock never goes below zero, exactly as many redemptions as there was stock, and `check ledgers`
finds nothing. Runs on SQLite and, under scripts/with-postgres, on PostgreSQL."""

import pytest
from django.core.management import call_command

from tests import factories
from tests.loyalty.helpers import run_concurrently
from vipcare.loyalty.models import PointsAccount
from vipcare.loyalty.services import points_earn
from vipcare.rewards.models import Redemption, Reward
from vipcare.rewards.services import RewardRefused, reward_cancel, reward_redeem

THREADS = 8


@pytest.mark.django_db(transaction=True)
def test_reward_redeem_concurrent_never_oversells(store):
    # given 3 gifts left and 6 members with points, two of whom send their request twice at once
    reward = Reward.objects.create(code="tea", name="双人下午茶", points=500, stock=3)
    members = [factories.member(name=f"会员{i}") for i in range(6)]
    for member in members:
        points_earn(member=member, points=1000, idempotency_key="opening")
    requests = [(members[i % 6], f"desk-{i % 6}") for i in range(THREADS)]  # members 0 and 1 retry

    def redeem(member, key):
        return lambda: reward_redeem(reward=reward, member=member, store=store, idempotency_key=key)

    # when they all go at once
    results = run_concurrently([redeem(member, key) for member, key in requests])
    # then three redemptions, each of a different member; every other request was refused as out of stock
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, RewardRefused)]
    assert not unexpected, unexpected
    assert {r.reason for r in results if isinstance(r, RewardRefused)} <= {"out_of_stock"}
    redemptions = list(Redemption.objects.all())
    assert len(redemptions) == 3 and len({r.member_id for r in redemptions}) == 3
    assert Reward.objects.get().stock == 0
    accepted = {r.pk for r in results if isinstance(r, Redemption)}
    assert accepted == {r.pk for r in redemptions}  # a retry that won got the same redemption back
    balances = dict(PointsAccount.objects.values_list("member_id", "balance"))
    assert sorted(balances.values()) == [500, 500, 500, 1000, 1000, 1000]
    call_command("check", "ledgers")


@pytest.mark.django_db(transaction=True)
def test_reward_redeem_and_cancel_concurrent_keep_stock_exact(store):
    # given one member's two waiting redemptions, 1 unit left and others wanting it
    reward = Reward.objects.create(code="umbrella", name="晴雨伞", points=100, stock=3, per_member_limit=2)
    first, *others = [factories.member(name=f"会员{i}") for i in range(5)]
    for member in (first, *others):
        points_earn(member=member, points=1000, idempotency_key="opening")
    waiting = [reward_redeem(reward=reward, member=first, store=store, idempotency_key=f"w{i}") for i in range(2)]
    jobs = [lambda r=r: reward_cancel(redemption=r, reason="desk") for r in waiting] * 2  # each cancel sent twice
    jobs += [lambda m=m: reward_redeem(reward=reward, member=m, store=store, idempotency_key="x") for m in others]
    # when cancels and redemptions race
    results = run_concurrently(jobs)
    # then stock + live redemptions is still 3, whatever the order
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, RewardRefused)]
    live = Redemption.objects.exclude(status="cancelled").count()
    assert Reward.objects.get().stock + live == 3
    assert PointsAccount.objects.get(member=first).balance == 1000
    assert live == sum(1 for r in results if isinstance(r, Redemption) and r.member_id != first.pk)
    call_command("check", "ledgers")


@pytest.mark.django_db(transaction=True)
def test_reward_redeem_concurrent_keeps_the_per_member_limit(store):
    # given a gift limited to one per member, and one member asking at six desks at once with different keys
    reward = Reward.objects.create(code="bag", name="帆布袋", points=100, stock=50, per_member_limit=1)
    member = factories.member(name="周杰")
    points_earn(member=member, points=1000, idempotency_key="opening")
    results = run_concurrently([lambda i=i: reward_redeem(reward=reward, member=member, store=store,
                                                          idempotency_key=f"desk-{i}") for i in range(6)])
    # then exactly one redemption; the others were refused as over the limit
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, RewardRefused)]
    assert sorted(r.reason for r in results if isinstance(r, RewardRefused)) == ["over_limit"] * 5
    assert Redemption.objects.count() == 1 and Reward.objects.get().stock == 49
    assert PointsAccount.objects.get(member=member).balance == 900
    call_command("check", "ledgers")
