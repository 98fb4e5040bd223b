import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests import factories
from tests.loyalty.helpers import assert_ledgers_clean, at
from vipcare.core.models import AuditLogEntry
from vipcare.loyalty import selectors
from vipcare.loyalty.choices import ExpiryMode, HoldStatus, PointsEntryKind
from vipcare.loyalty.models import EarnMultiplier, PointsAccount, PointsEntry, PointsLot
from vipcare.loyalty.services import (
    points_adjust,
    points_capture,
    points_earn,
    points_earn_for_sale,
    points_expire,
    points_hold,
    points_holds_release_expired,
    points_open,
    points_release,
    points_reverse_for_refund,
    points_spend,
)
from vipcare.sales.services import RefundLineInput, refund_record


def account(member) -> PointsAccount:
    return PointsAccount.objects.get(member=member)


def test_points_earn_makes_a_lot_that_lapses_after_12_months(member, policy):
    entry = points_earn(member=member, points=100, idempotency_key="e1", at=at())
    lot = entry.lot
    assert (lot.points, lot.remaining, lot.expires_at) == (100, 100, datetime.datetime(2027, 1, 5, 10, 0,
                                                                                       tzinfo=datetime.UTC))
    assert account(member).balance == 100 and entry.balance_after == 100


def test_points_earn_retry_with_same_key_changes_nothing(member, policy):
    first = points_earn(member=member, points=100, idempotency_key="e1", at=at())
    again = points_earn(member=member, points=100, idempotency_key="e1", at=at(1))
    assert again.pk == first.pk
    assert account(member).balance == 100 and PointsEntry.objects.count() == 1


def test_points_key_reused_for_another_operation_is_refused(member, policy):
    points_earn(member=member, points=100, idempotency_key="k", at=at())
    with pytest.raises(ValidationError, match="already used"):
        points_spend(member=member, points=10, idempotency_key="k", at=at())


def test_points_spend_burns_soonest_expiring_lots_first_and_no_expiry_last(member, policy):
    # given lots earned under different expiry modes
    policy.expiry_mode = ExpiryMode.NONE
    policy.save()
    never = points_earn(member=member, points=50, idempotency_key="never", at=at()).lot
    policy.expiry_mode = ExpiryMode.ROLLING_MONTHS
    policy.expiry_months = 6
    policy.save()
    late = points_earn(member=member, points=50, idempotency_key="late", at=at(30)).lot
    policy.expiry_months = 3
    policy.save()
    soon = points_earn(member=member, points=50, idempotency_key="soon", at=at(40)).lot
    # when 80 points are spent
    entry = points_spend(member=member, points=80, idempotency_key="s1", at=at(41))
    # then the soonest-expiring lot goes first, then the next; the lot without expiry is untouched
    assert entry.allocations == [[soon.pk, 50], [late.pk, 30]]
    remaining = dict(PointsLot.objects.values_list("pk", "remaining"))
    assert remaining == {soon.pk: 0, late.pk: 20, never.pk: 50}
    assert_ledgers_clean()


def test_points_spend_more_than_balance_is_refused_and_changes_nothing(member, policy):
    points_earn(member=member, points=10, idempotency_key="e", at=at())
    with pytest.raises(ValidationError, match="not enough points"):
        points_spend(member=member, points=11, idempotency_key="s", at=at())
    assert account(member).balance == 10 and PointsEntry.objects.count() == 1


def test_points_expire_lapses_lots_and_is_safe_to_rerun(member, policy):
    points_earn(member=member, points=70, idempotency_key="e", at=at())
    points_spend(member=member, points=20, idempotency_key="s", at=at(10))
    # a day before the anniversary nothing lapses
    assert points_expire(as_of=at(364)) == 0
    assert points_expire(as_of=at(366)) == 1
    assert points_expire(as_of=at(367)) == 0
    assert account(member).balance == 0
    expired = PointsEntry.objects.get(kind=PointsEntryKind.EXPIRE)
    assert expired.delta == -50
    assert_ledgers_clean()


def test_points_spend_never_uses_a_lapsed_lot_even_before_the_job(member, policy):
    points_earn(member=member, points=70, idempotency_key="e", at=at())
    with pytest.raises(ValidationError):
        points_spend(member=member, points=10, idempotency_key="s", at=at(400))


def test_points_expiry_year_end_mode(member, policy):
    policy.expiry_mode = ExpiryMode.YEAR_END
    policy.save()
    lot = points_earn(member=member, points=10, idempotency_key="e", at=at(100)).lot
    # the end of the year in Shanghai
    assert lot.expires_at == datetime.datetime(2026, 12, 31, 16, 0, tzinfo=datetime.UTC)


def test_points_pending_period_before_points_can_be_spent(member, policy):
    # given a 7-day return window
    policy.pending_days = 7
    policy.save()
    points_earn(member=member, points=100, idempotency_key="e", at=at())
    acct = account(member)
    assert (acct.balance, acct.pending) == (0, 100)
    with pytest.raises(ValidationError):
        points_spend(member=member, points=1, idempotency_key="s1", at=at(6))
    # when the window has passed, the points are spendable (even before the nightly job ran)
    points_spend(member=member, points=30, idempotency_key="s2", at=at(7))
    acct.refresh_from_db()
    assert (acct.balance, acct.pending) == (70, 0)
    assert_ledgers_clean()


def test_points_expiring_selector_finds_members_to_remind(member, policy):
    points_earn(member=member, points=10, idempotency_key="e", at=at())
    assert selectors.points_expiring(as_of=at(340), within_days=30)[0]["points"] == 10
    assert selectors.points_expiring(as_of=at(300), within_days=30) == []


def _sale_with_two_lines(member, store):
    from vipcare.sales.services import LineInput, sale_record

    return sale_record(store=store, member=member, receipt_no="R1", sold_at=at(), lines=[
        LineInput(unit_price_fen=10000, quantity=2, category="cosmetics"),
        LineInput(unit_price_fen=10000, quantity=1, category="fashion"),
    ])


def test_points_earn_for_sale_uses_rules_and_the_sale_is_the_key(member, store, policy):
    EarnMultiplier.objects.create(name="cosmetics", category="cosmetics", multiplier=3)
    sale = _sale_with_two_lines(member, store)
    entry = points_earn_for_sale(sale=sale)
    assert entry.delta == 600 + 100
    assert points_earn_for_sale(sale=sale).pk == entry.pk
    assert account(member).balance == 700


def test_points_reverse_for_refund_takes_back_the_refunded_lines_points(member, store, policy):
    EarnMultiplier.objects.create(name="cosmetics", category="cosmetics", multiplier=3)
    sale = _sale_with_two_lines(member, store)
    points_earn_for_sale(sale=sale)
    cosmetics = sale.lines.get(category="cosmetics")
    # when one of the two cosmetics items comes back
    refund = refund_record(sale=sale, refund_no="F1", refunded_at=at(1),
                           lines=[RefundLineInput(cosmetics.pk, 1)])
    entry = points_reverse_for_refund(refund=refund, at=at(1))
    # then half of that line's 600 points are taken back; a retry takes nothing more
    assert entry.delta == -300 and entry.shortfall == 0
    assert points_reverse_for_refund(refund=refund, at=at(1)).pk == entry.pk
    # and the rest of the sale, refunded, takes back exactly what is left of the 700
    rest = refund_record(sale=sale, refund_no="F2", refunded_at=at(2))
    assert points_reverse_for_refund(refund=rest, at=at(2)).delta == -400
    assert account(member).balance == 0
    assert_ledgers_clean()


def test_points_reverse_for_refund_after_points_were_spent_records_shortfall(member, store, policy):
    # given a sale that earned 300 points, of which 250 were spent; the member has 20 other points
    sale = factories.sale(member, store, 30000, sold_at=at())
    points_earn_for_sale(sale=sale)
    points_earn(member=member, points=20, idempotency_key="other", at=at(1))
    points_spend(member=member, points=250, idempotency_key="gift", at=at(2))
    # when the whole sale is refunded
    refund = refund_record(sale=sale, refund_no="F1", refunded_at=at(3))
    entry = points_reverse_for_refund(refund=refund, at=at(3))
    # then everything left is taken (the 50 left of the lot, the 20 others), never below zero,
    # and the 230 the member had already spent are recorded as the shortfall
    assert entry.delta == -70 and entry.shortfall == 230
    assert account(member).balance == 0
    assert selectors.points_refund_shortfalls().get().pk == entry.pk
    assert_ledgers_clean()


def test_points_reverse_for_refund_of_pending_points(member, store, policy):
    policy.pending_days = 7
    policy.save()
    sale = factories.sale(member, store, 10000, sold_at=at())
    points_earn_for_sale(sale=sale)
    refund = refund_record(sale=sale, refund_no="F1", refunded_at=at(1))
    entry = points_reverse_for_refund(refund=refund, at=at(1))
    assert (entry.delta, entry.pending_delta, entry.shortfall) == (0, -100, 0)
    assert_ledgers_clean()


def test_points_hold_capture_and_release(member, policy):
    points_earn(member=member, points=100, idempotency_key="e", at=at())
    hold = points_hold(member=member, points=60, idempotency_key="h1", expires_at=at(0, 1), at=at())
    assert account(member).balance == 40
    assert points_hold(member=member, points=60, idempotency_key="h1", expires_at=at(0, 1), at=at()).pk == hold.pk
    points_capture(hold=hold, at=at(0, 0.5))
    points_capture(hold=hold, at=at(0, 0.5))  # a retry
    with pytest.raises(ValidationError):
        points_release(hold=hold, at=at(0, 0.6))
    other = points_hold(member=member, points=40, idempotency_key="h2", expires_at=at(0, 1), at=at())
    points_release(hold=other, at=at(0, 0.5))
    assert account(member).balance == 40
    assert_ledgers_clean()


def test_points_holds_time_out_and_are_released(member, policy):
    points_earn(member=member, points=100, idempotency_key="e", at=at())
    hold = points_hold(member=member, points=60, idempotency_key="h1", expires_at=at(0, 1), at=at())
    assert points_holds_release_expired(now=at(0, 0.9)) == 0
    assert points_holds_release_expired(now=at(0, 1)) == 1
    hold.refresh_from_db()
    assert hold.status == HoldStatus.RELEASED and account(member).balance == 100
    with pytest.raises(ValidationError):
        points_capture(hold=hold, at=at(0, 2))
    assert_ledgers_clean()


def test_points_adjust_needs_a_role_and_a_reason_and_is_audited(member, policy, ops_manager, cashier):
    with pytest.raises(PermissionDenied):
        points_adjust(member=member, points=50, reason="goodwill", adjusted_by=cashier.user, idempotency_key="a1")
    with pytest.raises(ValidationError):
        points_adjust(member=member, points=50, reason=" ", adjusted_by=ops_manager.user, idempotency_key="a1")
    points_adjust(member=member, points=50, reason="complaint 42 goodwill", adjusted_by=ops_manager.user,
                  idempotency_key="a1", at=at())
    points_adjust(member=member, points=-20, reason="double entry", adjusted_by=ops_manager.user,
                  idempotency_key="a2", at=at())
    assert account(member).balance == 30
    assert AuditLogEntry.objects.filter(action="points_adjust").count() == 2
    assert_ledgers_clean()


def test_points_open_carries_points_over_with_the_old_expiry_once(member, policy, ops_manager, cashier):
    with pytest.raises(PermissionDenied):
        points_open(member=member, points=500, opened_by=cashier.user, idempotency_key="o", reason="old card")
    for bad in ({"points": 0}, {"points": -5}, {"reason": " "}, {"expires_at": at(-1)}):
        with pytest.raises(ValidationError):
            points_open(**{"member": member, "points": 500, "opened_by": ops_manager.user, "idempotency_key": "o",
                           "reason": "old card", "at": at(), **bad})
    assert not PointsAccount.objects.filter(member=member, balance__gt=0).exists()
    entry = points_open(member=member, points=500, expires_at=at(40), opened_by=ops_manager.user,
                        idempotency_key="o", reason="old card", at=at())
    assert entry.kind == "opening" and entry.lot.expires_at == at(40) and entry.lot.matured
    # the same key again: the same entry, nothing added
    assert points_open(member=member, points=500, opened_by=ops_manager.user, idempotency_key="o",
                       reason="old card", at=at()).pk == entry.pk
    assert account(member).balance == 500
    # without a date the lot lapses as the policy says for points earned that day
    later = points_open(member=member, points=100, opened_by=ops_manager.user, idempotency_key="o2",
                        reason="second card", at=at())
    assert later.lot.expires_at == points_earn(member=member, points=1, idempotency_key="e", at=at()).lot.expires_at
    # the old system's date holds: the lot lapses on it, not the policy's
    points_expire(as_of=at(41))
    assert account(member).balance == 101
    assert AuditLogEntry.objects.filter(action="points_adjust", user=ops_manager.user).count() == 2
    assert_ledgers_clean()


def test_holds_release_expired_job_releases_points_and_stored_value(member, store, policy):
    from vipcare.loyalty.jobs import holds_release_expired
    from vipcare.wallet.services import wallet_hold, wallet_top_up

    points_earn(member=member, points=100, idempotency_key="e", at=at())
    points_hold(member=member, points=60, idempotency_key="h", expires_at=at(0, 1), at=at())
    wallet_top_up(member=member, pay_fen=1000, idempotency_key="t", store=store, at=at())
    wallet_hold(member=member, amount_fen=500, idempotency_key="h", expires_at=at(0, 1), store=store, at=at())
    assert holds_release_expired(now=at(0, 2)) == {"points": 1, "wallet": 1}
    assert holds_release_expired(now=at(0, 3)) == {"points": 0, "wallet": 0}
    assert_ledgers_clean()


def test_points_released_into_a_lot_that_already_lapsed_lapse_again(member, policy):
    # given a lot that lapses while some of its points are held, and the nightly job lapses the rest
    policy.expiry_months = 1
    policy.save()
    points_earn(member=member, points=100, idempotency_key="e", at=at())
    hold = points_hold(member=member, points=50, idempotency_key="h", at=at(1), expires_at=at(100))
    points_expire(as_of=at(40))
    # when the hold is released after the lot's lapse
    points_release(hold=hold, at=at(41))
    # then the released points lapse at once, as their own entry
    expiries = PointsEntry.objects.filter(kind=PointsEntryKind.EXPIRE).order_by("pk")
    assert [(e.delta, e.idempotency_key) for e in expiries] == [(-50, f"expire:{hold.allocations[0][0]}"),
                                                                (-50, f"expire:{hold.allocations[0][0]}:2")]
    assert account(member).balance == 0
    assert_ledgers_clean()


def test_points_return_payment_gives_back_to_the_lots_latest_expiring_first(member, store, policy):
    # given two lots, a payment of 150 points that took 100 from the older and 50 from the newer
    from vipcare.loyalty.services import points_return_payment

    old = points_earn(member=member, points=100, idempotency_key="e1", at=at()).lot
    new = points_earn(member=member, points=100, idempotency_key="e2", at=at(30)).lot
    sale = factories.sale(member, store, 40000, quantity=4, sold_at=at(31))
    spend = points_spend(member=member, points=150, idempotency_key="pay", at=at(31), sale=sale)
    assert spend.allocations == [[old.pk, 100], [new.pk, 50]]
    line = sale.lines.get()
    # when a quarter of the sale comes back, then the rest
    first = refund_record(sale=sale, refund_no="T1", refunded_at=at(32), lines=[RefundLineInput(line.pk, 1)])
    entry = points_return_payment(refund=first, points=38, paid=spend.allocations, at=at(32))
    assert entry.allocations == [[new.pk, 38]] and account(member).balance == 88
    assert points_return_payment(refund=first, points=38, paid=spend.allocations, at=at(32)) == entry  # a retry
    rest = refund_record(sale=sale, refund_no="T2", refunded_at=at(33))
    with pytest.raises(ValidationError):  # never more than the payment took
        points_return_payment(refund=rest, points=113, paid=spend.allocations, at=at(33))
    entry = points_return_payment(refund=rest, points=112, paid=spend.allocations, at=at(33))
    # then each lot got back exactly what the payment took from it
    assert entry.allocations == [[new.pk, 12], [old.pk, 100]]
    assert account(member).balance == 200
    assert_ledgers_clean()


def test_points_return_payment_into_a_lapsed_lot_lapses_again(member, store, policy):
    from vipcare.loyalty.services import points_return_payment

    policy.expiry_months = 1
    policy.save()
    lot = points_earn(member=member, points=100, idempotency_key="e", at=at()).lot
    sale = factories.sale(member, store, 10000, sold_at=at(1))
    spend = points_spend(member=member, points=60, idempotency_key="pay", at=at(1), sale=sale)
    refund = refund_record(sale=sale, refund_no="T1", refunded_at=at(40))  # after the lot lapsed
    points_return_payment(refund=refund, points=60, paid=spend.allocations, at=at(40))
    assert account(member).balance == 0
    lot.refresh_from_db()
    assert lot.remaining == 0
    assert list(PointsEntry.objects.filter(kind="expire").order_by("pk").values_list("delta", flat=True)) == [-40, -60]
    assert_ledgers_clean()
