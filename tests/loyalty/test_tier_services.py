import datetime
import zoneinfo

import pytest

from tests import factories
from vipcare.loyalty import selectors
from vipcare.loyalty.choices import DowngradeMode, TierBasis, TierChangeReason
from vipcare.loyalty.models import MemberTier, Tier, TierChange, TierPolicy
from vipcare.loyalty.services import (
    points_earn_for_sale,
    tier_evaluate_after_refund,
    tier_evaluate_after_sale,
    tier_review,
    tier_set,
)
from vipcare.sales.services import refund_record

SH = zoneinfo.ZoneInfo("Asia/Shanghai")


def day(month: int, d: int, year: int = 2026, hour: int = 12) -> datetime.datetime:
    return datetime.datetime(year, month, d, hour, tzinfo=SH)


def level(member) -> str | None:
    state = MemberTier.objects.filter(member=member).select_related("tier").first()
    return state.tier.code if state and state.tier else None


def buy(member, store, yuan: int, when: datetime.datetime):
    sale = factories.sale(member, store, yuan * 100, sold_at=when)
    tier_evaluate_after_sale(sale=sale, at=when)
    return sale


def test_default_ladder_is_the_documents_one(db):
    ladder = list(Tier.objects.values_list("code", "threshold_fen"))
    assert ladder == [("ordinary", 200000), ("silver", 500000), ("gold", 1000000), ("diamond", 2000000)]


def test_tier_evaluate_after_sale_upgrades_at_once_when_the_quarter_qualifies(member, store):
    buy(member, store, 900, day(1, 10))
    buy(member, store, 900, day(1, 20))
    assert level(member) is None
    buy(member, store, 300, day(2, 10))  # ¥2,100 this quarter
    assert level(member) == "ordinary"
    buy(member, store, 3000, day(3, 1))  # ¥5,100
    assert level(member) == "silver"
    change = TierChange.objects.filter(member=member).first()
    assert change.reason == TierChangeReason.SALE and change.window_value == 510000


def test_tier_evaluate_after_sale_spend_of_last_quarter_does_not_count(member, store):
    buy(member, store, 900, day(3, 29))
    buy(member, store, 900, day(3, 30))
    buy(member, store, 600, day(4, 2))
    assert level(member) is None


def test_tier_evaluate_after_sale_single_purchase_of_1000_earns_a_card(member, store):
    buy(member, store, 1000, day(1, 10))
    assert level(member) == "ordinary"


def test_tier_evaluate_after_refund_undoes_the_upgrade_the_sale_made(member, store):
    buy(member, store, 4000, day(1, 10))
    assert level(member) == "ordinary"
    sale = buy(member, store, 2000, day(1, 11))
    assert level(member) == "silver"
    refund = refund_record(sale=sale, refund_no="F1", refunded_at=day(1, 12))
    change = tier_evaluate_after_refund(refund=refund, at=day(1, 12))
    assert change.reason == TierChangeReason.REFUND and level(member) == "ordinary"


def test_tier_review_downgrades_one_step_after_grace(member, store):
    # given a member who reached gold in Q1 and bought nothing since
    buy(member, store, 10000, day(2, 1))
    assert level(member) == "gold"
    # a review in Q2 still sees Q1's spend
    assert tier_review(as_of=day(4, 2))["down"] == 0
    # the first review in Q3 finds the level unsupported; grace (30 days) starts
    assert tier_review(as_of=day(7, 1))["down"] == 0
    assert level(member) == "gold"
    assert tier_review(as_of=day(7, 31))["down"] == 1
    assert level(member) == "silver"
    # each further step waits its own grace
    assert tier_review(as_of=day(8, 1))["down"] == 0
    assert tier_review(as_of=day(9, 1))["down"] == 1
    assert level(member) == "ordinary"


def test_tier_review_spend_during_grace_keeps_the_level(member, store):
    buy(member, store, 5000, day(2, 1))
    tier_review(as_of=day(7, 1))
    buy(member, store, 5000, day(7, 10))
    tier_review(as_of=day(8, 15))
    assert level(member) == "silver"
    assert MemberTier.objects.get(member=member).below_since is None


@pytest.mark.parametrize(("mode", "expected"), [(DowngradeMode.NONE, "diamond"),
                                                (DowngradeMode.TO_SUPPORTED, "ordinary")])
def test_tier_review_downgrade_modes(member, store, mode, expected):
    TierPolicy.objects.update_or_create(pk=1, defaults={"downgrade_mode": mode, "grace_days": 0})
    buy(member, store, 20000, day(1, 5))
    buy(member, store, 2500, day(7, 5))
    tier_review(as_of=day(10, 2))
    assert level(member) == expected


def test_tier_review_upgrades_members_whose_sales_came_without_evaluation(member, store):
    factories.sale(member, store, 600000, sold_at=day(1, 5))  # e.g. an import
    assert tier_review(as_of=day(1, 6))["up"] == 1
    assert level(member) == "silver"
    assert tier_review(as_of=day(1, 6)) == {"reviewed": 1, "up": 0, "down": 0}


def test_tier_review_by_rolling_window_and_points(member, store, policy):
    TierPolicy.objects.update_or_create(pk=1, defaults={
        "window": "rolling", "rolling_days": 30, "basis": TierBasis.POINTS, "grace_days": 0,
        "downgrade_mode": DowngradeMode.TO_SUPPORTED})
    sale = factories.sale(member, store, 500000, sold_at=day(3, 1))
    points_earn_for_sale(sale=sale)  # 5,000 points: silver by points
    tier_evaluate_after_sale(sale=sale, at=day(3, 1))
    assert level(member) == "silver"
    tier_review(as_of=day(3, 31, hour=11))
    assert level(member) == "silver"
    tier_review(as_of=day(4, 1))
    assert level(member) is None


def test_tier_progress_says_how_much_more_to_the_next_level(member, store):
    buy(member, store, 8800, day(5, 1))
    progress = selectors.tier_progress(member, at=day(5, 2))
    assert progress.tier.code == "silver" and progress.next_tier.code == "gold"
    assert progress.gap == 120000
    assert "1,200" in progress.message


def test_tier_set_by_hand_is_audited(member, ops_manager, cashier):
    gold = Tier.objects.get(code="gold")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        tier_set(member=member, tier=gold, note="director's guest", set_by=cashier.user)
    tier_set(member=member, tier=gold, note="director's guest", set_by=ops_manager.user)
    assert level(member) == "gold"
