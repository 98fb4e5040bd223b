"""The ledgers' plain statements (vipcare.core.ledgers) write and read the same values as the ORM,
on SQLite and on PostgreSQL: aware times, JSON, related ids, defaults."""

import datetime

import pytest
from django.utils import timezone

from tests import factories
from vipcare.core import ledgers
from vipcare.loyalty.models import PointsAccount, PointsEntry, PointsLot

AT = timezone.make_aware(datetime.datetime(2026, 3, 14, 10, 30, 15, 250000))


@pytest.fixture
def account(db):
    return PointsAccount.objects.create(member=factories.member(name="李娜"))


def test_insert_writes_what_the_orm_reads_back(account):
    lot = ledgers.insert(PointsLot, account=account, points=120, remaining=120, earned_at=AT, available_at=AT,
                         matured=True, expires_at=None, line_points={"7": 120})
    entry = ledgers.insert(PointsEntry, account_id=account.pk, kind="earn", delta=120, balance_after=120, lot=lot,
                           allocations=[[lot.pk, 120]], idempotency_key="sale:7", created_at=AT)
    stored = PointsEntry.objects.get(pk=entry.pk)
    assert (stored.account_id, stored.lot_id, stored.delta, stored.pending_delta, stored.shortfall) == \
        (account.pk, lot.pk, 120, 0, 0)  # defaults filled in
    assert stored.allocations == [[lot.pk, 120]] and stored.created_at == AT and stored.reason == ""
    stored_lot = PointsLot.objects.get(pk=lot.pk)
    assert stored_lot.line_points == {"7": 120} and stored_lot.earned_at == AT and stored_lot.matured
    assert entry.lot is lot  # the caller's object, not read again


def test_select_gives_the_orm_s_values(account):
    lot = PointsLot.objects.create(account=account, points=50, remaining=20, earned_at=AT, available_at=AT,
                                   expires_at=AT + datetime.timedelta(days=365), line_points={"1": 50})
    (found,) = ledgers.select(PointsLot, "id = %s", [lot.pk], lock=True)
    orm = PointsLot.objects.get(pk=lot.pk)
    for field in PointsLot._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(orm, field.attname), field.name
    assert timezone.is_aware(found.expires_at)


def test_insert_refuses_a_field_the_model_does_not_have(account):
    with pytest.raises(TypeError, match="no field balance_afterr"):
        ledgers.insert(PointsEntry, account=account, kind="earn", delta=1, balance_afterr=1, idempotency_key="k",
                       created_at=AT)
    assert not PointsEntry.objects.exists()
