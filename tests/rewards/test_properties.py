"""Any sequence of redemptions, retries, hand-overs and cancels, by members with and without enough
points, keeps stock + live redemptions = the stock put in, each member's points = what they had
less what their live redemptions cost, and the points ledger clean (`vipcare check ledgers`)."""

from hypothesis import given
from hypothesis import strategies as st

from tests import factories
from tests.loyalty.helpers import LEDGER_SETTINGS, assert_ledgers_clean, rolled_back
from tests.rewards.conftest import at, state
from vipcare.loyalty.models import PointsAccount
from vipcare.loyalty.services import points_earn
from vipcare.rewards.choices import RedemptionStatus
from vipcare.rewards.models import Redemption, Reward
from vipcare.rewards.services import RewardRefused, reward_cancel, reward_hand_over, reward_redeem

INITIAL_STOCK = 4
OPENING = [3000, 700]  # one member can afford several gifts, the other barely one

operations = st.lists(st.one_of(
    st.tuples(st.just("redeem"), st.integers(0, 1), st.integers(0, 1), st.sampled_from(["k1", "k2", "k3", "k4"]),
              st.booleans()),
    st.tuples(st.just("cancel"), st.integers(0, 9)),
    st.tuples(st.just("hand_over"), st.integers(0, 9)),
), max_size=25)


@LEDGER_SETTINGS
@given(ops=operations, limit=st.sampled_from([0, 2]))
def test_stock_and_points_add_up_for_any_sequence(store, ops, limit):
    with rolled_back():
        members = [factories.member(name=f"会员{i}") for i in range(2)]
        for member, points in zip(members, OPENING, strict=True):
            points_earn(member=member, points=points, idempotency_key="opening", at=at())
        rewards = [Reward.objects.create(code="umbrella", name="晴雨伞", points=600, stock=INITIAL_STOCK,
                                         per_member_limit=limit),
                   Reward.objects.create(code="tea", name="下午茶", points=250, stock=INITIAL_STOCK)]
        seen: dict[tuple, Redemption] = {}
        for step, op in enumerate(ops):
            when = at(hours=step + 1)
            before = state()
            try:
                if op[0] == "redeem":
                    _, m, r, key, hand_over = op
                    redemption = reward_redeem(reward=rewards[r], member=members[m], store=store, idempotency_key=key,
                                               hand_over=hand_over, at=when)
                    if (m, key) in seen:  # a retry: the first redemption back, nothing changed
                        assert redemption.pk == seen[(m, key)].pk and state() == before
                    seen.setdefault((m, key), redemption)
                elif op[0] == "cancel":
                    done = list(Redemption.objects.order_by("pk"))
                    if done:
                        reward_cancel(redemption=done[op[1] % len(done)], reason="test", at=when)
                else:
                    done = list(Redemption.objects.order_by("pk"))
                    if done:
                        reward_hand_over(redemption=done[op[1] % len(done)], at=when)
            except RewardRefused as refused:
                if refused.reason == "key_reused":
                    assert (op[1], op[3]) in seen
                assert state() == before  # a refusal changes nothing
            # then, after every step
            live = Redemption.objects.exclude(status=RedemptionStatus.CANCELLED)
            for reward in Reward.objects.all():
                assert reward.stock + live.filter(reward=reward).count() == INITIAL_STOCK
                if limit and reward.code == "umbrella":
                    for member in members:
                        assert live.filter(reward=reward, member=member).count() <= limit
            for member, points in zip(members, OPENING, strict=True):
                spent = sum(live.filter(member=member).values_list("points", flat=True))
                assert PointsAccount.objects.get(member=member).balance == points - spent
            assert_ledgers_clean()
