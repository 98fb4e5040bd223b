"""Analytics fixtures: a generated mall with a few hundred members and a few thousand sale lines.

Rows are bulk-inserted (not through the sale service) so that the data set stays quick to build;
the analytics read only the tables.
"""

import datetime

import numpy as np
import pytest
from django.utils import timezone

from tests import factories
from vipcare.members.models import Member
from vipcare.sales.models import Refund, RefundLine, Sale, SaleLine

AS_OF = datetime.date(2026, 6, 30)


def local(day: datetime.date, hour: int = 14) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def generate_mall(*, members: int = 400, seed: int = 7, start: datetime.date = datetime.date(2024, 1, 1),
                  end: datetime.date = AS_OF + datetime.timedelta(days=30)) -> list[Member]:
    """Members who buy at their own rate until they silently leave (the BG/NBD story), with a few
    refunds; some sales fall after AS_OF so that the as-of cut matters."""
    rng = np.random.default_rng(seed)
    stores = [factories.store(code=f"G{i}") for i in range(3)]
    span = (end - start).days
    people = Member.objects.bulk_create([
        Member(card_no=f"AN{seed:02d}{i:06d}", name=f"会员{i}", home_store=stores[i % 3],
               enrolled_at=local(start + datetime.timedelta(days=int(rng.integers(0, span - 60)))))
        for i in range(members)
    ])
    sales, lines = [], []
    for person in people:
        first = (person.enrolled_at.date() - start).days + int(rng.integers(0, 30))
        rate = rng.gamma(0.8, 1 / 40)  # purchases per day
        leave = first + int(rng.exponential(300))
        day, n = first, 0
        while day < min(leave, span) and n < 60:
            sold_at = local(start + datetime.timedelta(days=day), hour=int(rng.integers(10, 21)))
            store = stores[int(rng.integers(0, 3))]
            amount = int(rng.gamma(2.0, 30000)) + 100
            sales.append(Sale(store=store, member=person, receipt_no=f"AN{seed}-{len(sales)}", sold_at=sold_at,
                              total_fen=amount, item_count=1))
            lines.append((store, person, sold_at, amount))
            n += 1
            day += 1 + int(rng.exponential(1 / max(rate, 1e-3)))
    Sale.objects.bulk_create(sales)
    line_rows = SaleLine.objects.bulk_create([
        SaleLine(sale=sale, member=person, store=store, sold_at=sold_at, unit_price_fen=amount, quantity=1,
                 amount_fen=amount) for sale, (store, person, sold_at, amount) in zip(sales, lines, strict=True)
    ])
    # Every 25th line half refunded a week later.
    for i, line in enumerate(line_rows[::25]):
        refund = Refund.objects.create(sale=line.sale, store=line.store, member=line.member, refund_no=f"RF{seed}-{i}",
                                       refunded_at=line.sold_at + datetime.timedelta(days=7),
                                       amount_fen=line.amount_fen // 2)
        RefundLine.objects.create(refund=refund, sale_line=line, quantity=1, amount_fen=line.amount_fen // 2)
    return people


@pytest.fixture
def mall(db):
    return generate_mall()
