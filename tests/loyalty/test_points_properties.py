"""Any sequence of earns, sales, refunds, spends, holds, captures, releases, expiries and retries
keeps the points ledger's invariants: balance = sum of entries, never negative, lots consistent,
and a retried request changes nothing."""

import datetime
import itertools

from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from tests import factories
from tests.loyalty.helpers import LEDGER_SETTINGS, assert_ledgers_clean, at, rolled_back
from vipcare.loyalty.choices import ExpiryMode
from vipcare.loyalty.models import PointsAccount, PointsEntry, PointsHold, PointsLot, PointsPolicy
from vipcare.loyalty.services import (
    points_capture,
    points_earn,
    points_earn_for_sale,
    points_expire,
    points_hold,
    points_holds_release_expired,
    points_release,
    points_reverse_for_refund,
    points_spend,
    tier_evaluate_after_sale,
)
from vipcare.sales.models import RefundLine
from vipcare.sales.services import RefundLineInput, refund_record

keys = st.sampled_from(["k1", "k2", "k3", "k4", "k5"])  # a small pool, so retries and reuse happen
operations = st.lists(st.one_of(
    st.tuples(st.just("advance"), st.integers(0, 200)),
    st.tuples(st.just("earn"), st.integers(1, 500), keys),
    st.tuples(st.just("sale"), st.integers(1, 3000), st.integers(1, 3)),
    st.tuples(st.just("refund"), st.integers(0, 9)),
    st.tuples(st.just("spend"), st.integers(1, 600), keys),
    st.tuples(st.just("hold"), st.integers(1, 300), keys, st.integers(1, 48)),
    st.tuples(st.just("capture"), st.integers(0, 9)),
    st.tuples(st.just("release"), st.integers(0, 9)),
    st.tuples(st.just("expire")),
    st.tuples(st.just("release_expired")),
), max_size=25)


def snapshot(member) -> tuple:
    account = PointsAccount.objects.filter(member=member).first()
    lots = tuple(PointsLot.objects.order_by("pk").values_list("remaining", flat=True))
    return (account and (account.balance, account.pending), PointsEntry.objects.count(), lots,
            tuple(PointsHold.objects.order_by("pk").values_list("status", flat=True)))


@LEDGER_SETTINGS
@given(ops=operations, pending_days=st.sampled_from([0, 3]),
       expiry=st.sampled_from([(ExpiryMode.ROLLING_MONTHS, 1), (ExpiryMode.ROLLING_MONTHS, 12),
                               (ExpiryMode.YEAR_END, 12), (ExpiryMode.NONE, 12)]))
def test_points_ledger_invariants_hold_for_any_sequence(member, store, ops, pending_days, expiry):
    with rolled_back():
        PointsPolicy.objects.update_or_create(pk=1, defaults={"pending_days": pending_days, "expiry_mode": expiry[0],
                                                              "expiry_months": expiry[1]})
        now, sales, holds, used = at(), [], [], {}
        receipt = itertools.count(1)
        for op in ops:
            before = snapshot(member)
            kind = op[0]
            try:
                if kind == "advance":
                    now += datetime.timedelta(days=op[1], hours=1)
                elif kind == "earn":
                    entry = points_earn(member=member, points=op[1], idempotency_key=op[2], at=now)
                    if used.get(op[2]) == "earn":  # a retry: the same entry, nothing changed
                        assert snapshot(member) == before and entry.kind == "earn"
                    used[op[2]] = "earn"
                elif kind == "sale":
                    sale = factories.sale(member, store, op[1] * 100, quantity=op[2], sold_at=now,
                                          receipt_no=f"P{next(receipt)}")
                    points_earn_for_sale(sale=sale, at=now)
                    tier_evaluate_after_sale(sale=sale, at=now)
                    sales.append(sale)
                elif kind == "refund" and sales:
                    sale = sales[op[1] % len(sales)]
                    line = sale.lines.get()
                    done = sum(RefundLine.objects.filter(sale_line=line).values_list("quantity", flat=True))
                    if done < line.quantity:
                        refund = refund_record(sale=sale, refund_no=f"F{next(receipt)}", refunded_at=now,
                                               lines=[RefundLineInput(line.pk, 1)])
                        points_reverse_for_refund(refund=refund, at=now)
                        after = snapshot(member)
                        points_reverse_for_refund(refund=refund, at=now)  # a retry
                        assert snapshot(member) == after
                elif kind == "spend":
                    balance = before[0][0] if before[0] else 0
                    entry = points_spend(member=member, points=op[1], idempotency_key=op[2], at=now)
                    if used.get(op[2]) == "spend":
                        assert snapshot(member) == before
                    else:
                        account = PointsAccount.objects.get(member=member)
                        # the spend took exactly its points (after any lapse/maturing it settled first)
                        assert entry.delta == -op[1] and account.balance == entry.balance_after
                        assert balance >= 0
                    used[op[2]] = "spend"
                elif kind == "hold":
                    hold = points_hold(member=member, points=op[1], idempotency_key=op[2], at=now,
                                       expires_at=now + datetime.timedelta(hours=op[3]))
                    if used.get(op[2]) == "hold":
                        assert snapshot(member) == before
                    else:
                        holds.append(hold)
                    used[op[2]] = "hold"
                elif kind == "capture" and holds:
                    points_capture(hold=holds[op[1] % len(holds)], at=now)
                elif kind == "release" and holds:
                    points_release(hold=holds[op[1] % len(holds)], at=now)
                elif kind == "expire":
                    points_expire(as_of=now)
                    after = snapshot(member)
                    points_expire(as_of=now)
                    assert snapshot(member) == after
                elif kind == "release_expired":
                    points_holds_release_expired(now=now)
            except ValidationError:
                # refused (not enough points, key used for another operation, hold already settled…):
                # nothing changed
                assert snapshot(member) == before
            assert_ledgers_clean()
