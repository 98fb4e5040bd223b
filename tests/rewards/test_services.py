"""reward_redeem, reward_hand_over and reward_cancel against the database: points held, captured or
given back through the loyalty services, stock taken once, retries and refusals."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests import factories
from tests.loyalty.helpers import assert_ledgers_clean
from tests.rewards.conftest import T0, at, state
from vipcare.core.models import AuditLogEntry
from vipcare.loyalty.models import PointsAccount, PointsEntry, PointsHold, PointsPolicy
from vipcare.loyalty.services import points_earn, points_expire
from vipcare.members.services import member_merge
from vipcare.offers.models import Coupon, CouponTemplate
from vipcare.rewards.choices import RedemptionStatus
from vipcare.rewards.models import Redemption, Reward
from vipcare.rewards.services import RewardRefused, reward_cancel, reward_hand_over, reward_redeem


def balance(member) -> int:
    return PointsAccount.objects.get(member=member).balance


def test_reward_redeem_holds_the_points_and_takes_one_from_stock(with_points, umbrella, store):
    # when
    redemption = reward_redeem(reward=umbrella, member=with_points, store=store, idempotency_key="k1", at=at(1))
    # then
    umbrella.refresh_from_db()
    assert umbrella.stock == 2
    assert redemption.status == RedemptionStatus.REDEEMED and redemption.from_stock
    assert balance(with_points) == 1200
    assert redemption.points_hold.points == 800 and redemption.points_hold.status == "held"
    assert_ledgers_clean()


def test_reward_redeem_with_the_same_key_redeems_once(with_points, umbrella, store):
    first = reward_redeem(reward=umbrella, member=with_points, store=store, idempotency_key="k1", at=at(1))
    before = state()
    again = reward_redeem(reward=umbrella, member=with_points, store=store, idempotency_key="k1", at=at(1, 1))
    assert again.pk == first.pk
    assert state() == before


def test_reward_redeem_refuses_a_key_used_for_another_reward(with_points, umbrella, store):
    reward_redeem(reward=umbrella, member=with_points, store=store, idempotency_key="k1", at=at(1))
    other = Reward.objects.create(code="bag", name="帆布袋", points=100, stock=5)
    with pytest.raises(RewardRefused) as refused:
        reward_redeem(reward=other, member=with_points, store=store, idempotency_key="k1", at=at(1))
    assert refused.value.reason == "key_reused"


def test_reward_redeem_and_hand_over_at_once_spends_the_points(with_points, umbrella, store):
    redemption = reward_redeem(reward=umbrella, member=with_points, store=store, idempotency_key="k1",
                               hand_over=True, at=at(1))
    assert redemption.status == RedemptionStatus.HANDED_OVER and redemption.handed_over_at == at(1)
    assert redemption.points_hold.status == "captured"
    assert balance(with_points) == 1200
    with pytest.raises(RewardRefused) as refused:
        reward_cancel(redemption=redemption, reason="changed mind", at=at(2))
    assert refused.value.reason == "already_handed_over"
    assert_ledgers_clean()


@pytest.mark.parametrize("case", ["points", "stock", "limit", "inactive", "not_yet", "ended", "store", "no_store",
                                  "merged"])
def test_reward_redeem_refusals_are_specific_and_change_nothing(case, with_points, umbrella, store, other_store):
    # given a situation the programme must refuse
    member, where, expected = with_points, store, {
        "points": "insufficient_points", "stock": "out_of_stock", "limit": "over_limit", "inactive": "reward_inactive",
        "not_yet": "reward_inactive", "ended": "reward_inactive", "store": "wrong_store", "no_store": "store_required",
        "merged": "member_merged"}[case]
    if case == "points":
        umbrella.points = 2001
    elif case == "stock":
        umbrella.stock = 0
    elif case == "limit":
        umbrella.per_member_limit = 1
        reward_redeem(reward=umbrella, member=member, store=store, idempotency_key="earlier", at=at(1))
    elif case == "inactive":
        umbrella.is_active = False
    elif case == "not_yet":
        umbrella.starts_on = datetime.date(2026, 3, 4)
    elif case == "ended":
        umbrella.ends_on = datetime.date(2026, 3, 2)
    elif case in ("store", "no_store"):
        umbrella.stores.set([other_store])
        where = store if case == "store" else None
    elif case == "merged":
        keep = factories.member(name="李娜", card_no="880000000001")
        member_merge(keep=keep, duplicate=member)
        member.refresh_from_db()
    umbrella.save()
    before = state()
    # when
    with pytest.raises(RewardRefused) as refused:
        reward_redeem(reward=umbrella, member=member, store=where, idempotency_key="k1", at=at(1, 1))
    # then
    assert refused.value.reason == expected
    assert state() == before


def test_reward_redeem_refuses_points_that_lapsed_by_now(member, umbrella, store):
    # given points that lapse after a month, and the nightly job has not run since they did
    PointsPolicy.objects.update_or_create(pk=1, defaults={"expiry_months": 1})
    points_earn(member=member, points=900, idempotency_key="e1", at=T0)
    before = state()
    # when the member redeems six weeks later
    with pytest.raises(RewardRefused) as refused:
        reward_redeem(reward=umbrella, member=member, store=store, idempotency_key="k1", at=at(42))
    # then the lapsed points do not pay, and nothing changed (the nightly job will record the lapse)
    assert refused.value.reason == "insufficient_points"
    assert state() == before


def test_reward_cancel_gives_back_points_and_stock_once(with_points, umbrella, store):
    redemption = reward_redeem(reward=umbrella, member=with_points, store=store, idempotency_key="k1", at=at(1))
    cancelled = reward_cancel(redemption=redemption, reason="member changed mind", at=at(1, 1))
    assert cancelled.status == RedemptionStatus.CANCELLED and cancelled.cancel_reason == "member changed mind"
    umbrella.refresh_from_db()
    assert umbrella.stock == 3 and balance(with_points) == 2000
    before = state()
    reward_cancel(redemption=redemption, reason="again", at=at(1, 2))
    assert state() == before
    with pytest.raises(RewardRefused) as refused:
        reward_hand_over(redemption=redemption, at=at(2))
    assert refused.value.reason == "redemption_cancelled"
    assert_ledgers_clean()


def test_reward_cancel_needs_a_reason(with_points, umbrella, store):
    redemption = reward_redeem(reward=umbrella, member=with_points, store=store, idempotency_key="k1", at=at(1))
    with pytest.raises(ValidationError):
        reward_cancel(redemption=redemption, reason="  ", at=at(2))
    assert Redemption.objects.get().status == RedemptionStatus.REDEEMED


def test_reward_cancel_after_the_points_lapsed_lets_them_lapse_again(with_points, umbrella, store):
    # given points earned at T0 lapse after 12 months, and a gift redeemed but never collected
    redemption = reward_redeem(reward=umbrella, member=with_points, store=store, idempotency_key="k1", at=at(1))
    points_expire(as_of=at(400))
    assert balance(with_points) == 0  # the 1,200 not held lapsed
    # when the redemption is cancelled after the lot's expiry
    reward_cancel(redemption=redemption, reason="never collected", at=at(401))
    # then the member does not get back points that would have lapsed; the stock comes back
    assert balance(with_points) == 0
    assert Reward.objects.get().stock == 3
    assert_ledgers_clean()


def test_reward_hand_over_spends_the_held_points_once(with_points, umbrella, store):
    redemption = reward_redeem(reward=umbrella, member=with_points, store=store, idempotency_key="k1", at=at(1))
    reward_hand_over(redemption=redemption, at=at(2))
    before = state()
    done = reward_hand_over(redemption=redemption, at=at(3))
    assert done.status == RedemptionStatus.HANDED_OVER and done.handed_over_at == at(2)
    assert state() == before
    assert PointsEntry.objects.filter(kind="capture").count() == 1
    assert balance(with_points) == 1200


def test_coupon_reward_is_issued_through_the_offers_service(with_points, store):
    template = CouponTemplate.objects.create(code="off50", name="满300减50", kind="amount_off", amount_fen=5000,
                                             min_spend_fen=30000, valid_days=30)
    reward = Reward.objects.create(code="off50-points", name="满300减50券", kind="coupon", coupon_template=template,
                                   points=1000, per_member_limit=2)
    redemption = reward_redeem(reward=reward, member=with_points, store=store, idempotency_key="k1", at=at(1))
    coupon = Coupon.objects.get()
    assert redemption.coupon == coupon and coupon.member == with_points and coupon.template == template
    assert coupon.issue_key == f"reward:{redemption.pk}"
    assert redemption.status == RedemptionStatus.HANDED_OVER and not redemption.from_stock
    assert balance(with_points) == 1000
    assert Reward.objects.get().stock is None


def test_coupon_reward_refused_by_the_template_changes_nothing(with_points, store):
    template = CouponTemplate.objects.create(code="gone", name="停发券", kind="amount_off", amount_fen=5000,
                                             valid_days=30, is_active=False)
    reward = Reward.objects.create(code="gone", name="停发券", kind="coupon", coupon_template=template, points=100)
    before = state()
    with pytest.raises(RewardRefused) as refused:
        reward_redeem(reward=reward, member=with_points, store=store, idempotency_key="k1", at=at(1))
    assert refused.value.reason == "coupon_refused"
    assert state() == before


def test_staff_steps_are_audited_and_cancelling_needs_a_manager(with_points, umbrella, store, account_manager,
                                                               store_manager):
    redemption = reward_redeem(reward=umbrella, member=with_points, store=store, idempotency_key="k1", at=at(1),
                               redeemed_by=account_manager.user)
    with pytest.raises(PermissionDenied):
        reward_cancel(redemption=redemption, reason="mistake", cancelled_by=account_manager.user, at=at(2))
    reward_cancel(redemption=redemption, reason="mistake", cancelled_by=store_manager.user, at=at(2))
    actions = list(AuditLogEntry.objects.order_by("pk").values_list("action", "user_id", "target_id"))
    assert actions == [("reward_redeem", account_manager.user.pk, str(with_points.pk)),
                       ("reward_cancel", store_manager.user.pk, str(with_points.pk))]
    assert AuditLogEntry.objects.order_by("pk").last().detail["reason"] == "mistake"


def test_merge_moves_a_waiting_redemption_with_its_held_points(with_points, umbrella, store):
    redemption = reward_redeem(reward=umbrella, member=with_points, store=store, idempotency_key="k1", at=at(1))
    keep = factories.member(name="李娜", card_no="880000000001")
    member_merge(keep=keep, duplicate=with_points)
    redemption.refresh_from_db()
    assert redemption.member_id == keep.pk
    reward_cancel(redemption=redemption, reason="merged card", at=at(2))
    assert balance(keep) == 2000
    assert PointsHold.objects.get().status == "released"
    assert_ledgers_clean()
