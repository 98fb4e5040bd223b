from tests import factories
from tests.loyalty.helpers import assert_ledgers_clean, at
from vipcare.loyalty.choices import PointsEntryKind
from vipcare.loyalty.models import MemberTier, PointsAccount, PointsEntry, Tier
from vipcare.loyalty.services import (
    points_earn,
    points_earn_for_sale,
    points_hold,
    points_release,
    points_reverse_for_refund,
    points_spend,
    tier_set,
)
from vipcare.members.services import member_merge
from vipcare.sales.services import refund_record
from vipcare.wallet.models import WalletAccount
from vipcare.wallet.services import wallet_pay, wallet_refund_payment, wallet_top_up


def test_member_merge_moves_points_lots_holds_and_the_higher_level(member, store, policy, ops_manager):
    # given a duplicate card with points from a sale, an open hold and the gold level
    duplicate = factories.member(name="李娜", phone="13900000000")
    sale = factories.sale(duplicate, store, 50000, sold_at=at())
    points_earn_for_sale(sale=sale)
    points_earn(member=member, points=100, idempotency_key="e1", at=at())
    hold = points_hold(member=duplicate, points=100, idempotency_key="h", expires_at=at(1), at=at(0, 1))
    tier_set(member=duplicate, tier=Tier.objects.get(code="gold"), note="VIP", set_by=ops_manager.user)
    # when the two are merged
    member_merge(keep=member, duplicate=duplicate)
    # then the kept member has both balances, the lots and the level; the duplicate's account is closed
    kept, dup = PointsAccount.objects.get(member=member), PointsAccount.objects.get(member=duplicate)
    assert (kept.balance, dup.balance, dup.merged_into_id) == (100 + 400, 0, kept.pk)
    assert PointsEntry.objects.get(account=dup, kind=PointsEntryKind.MERGE_OUT).delta == -400
    assert MemberTier.objects.get(member=member).tier.code == "gold"
    assert not MemberTier.objects.filter(member=duplicate).exists()
    assert_ledgers_clean()
    # and what the duplicate started still works on the kept member: the hold, the sale's refund
    points_release(hold=hold, at=at(0, 2))
    refund = refund_record(sale=sale, refund_no="F1", refunded_at=at(0, 3))
    assert points_reverse_for_refund(refund=refund, at=at(0, 3)).account_id == kept.pk
    points_spend(member=member, points=100, idempotency_key="s", at=at(0, 4))
    kept.refresh_from_db()
    assert kept.balance == 0
    assert_ledgers_clean()


def test_member_merge_moves_stored_value_and_refunds_follow(member, store):
    duplicate = factories.member(name="李娜", phone="13900000000")
    wallet_top_up(member=member, pay_fen=10000, idempotency_key="t1", store=store, at=at())
    wallet_top_up(member=duplicate, pay_fen=5000, idempotency_key="t1", store=store, at=at())
    payment = wallet_pay(member=duplicate, amount_fen=2000, idempotency_key="p1", store=store, at=at())
    member_merge(keep=member, duplicate=duplicate)
    kept = WalletAccount.objects.get(member=member)
    assert kept.principal_fen == 13000
    wallet_refund_payment(payment=payment, amount_fen=2000, idempotency_key="r1", at=at(1))
    kept.refresh_from_db()
    assert kept.principal_fen == 15000
    assert_ledgers_clean()
