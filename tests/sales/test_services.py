import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from vipcare.sales.models import Refund, Sale, SaleLine
from vipcare.sales.schemas import sale_body
from vipcare.sales.services import LineInput, RefundLineInput, refund_record, sale_record

NOW = timezone.now()


@pytest.fixture
def sale(member, store):
    return sale_record(store=store, member=member, receipt_no="R1", sold_at=NOW, lines=[
        LineInput(unit_price_fen=29900, quantity=2, brand="E·LAND", sku="EL-001", category="连衣裙", discount_fen=5980),
        LineInput(unit_price_fen=9900, quantity=1, brand="E·LAND", sku="EL-002", category="T恤"),
    ])


def test_sale_record_totals_lines_after_discount(sale):
    assert sale.total_fen == 29900 * 2 - 5980 + 9900
    assert sale.item_count == 3
    line = sale.lines.get(sku="EL-001")
    assert (line.amount_fen, line.member_id, line.store_id, line.sold_at) == (53820, sale.member_id, sale.store_id, NOW)


def test_sale_record_answers_with_what_was_stored(sale):
    # the sale and its lines are written by plain SQL and not read back: they must equal the rows
    stored = Sale.objects.get(pk=sale.pk)
    assert [(f.attname, getattr(sale, f.attname)) for f in Sale._meta.concrete_fields] == [
        (f.attname, getattr(stored, f.attname)) for f in Sale._meta.concrete_fields]
    with CaptureQueriesContext(connection) as queries:
        lines = list(sale.lines.all())
        body = sale_body(sale)
    assert len(queries) == 0  # the lines, the store and the member came with the sale
    assert [line.pk for line in lines] == sorted(stored.lines.values_list("pk", flat=True))
    assert [(f.attname, getattr(line, f.attname)) for line in lines for f in SaleLine._meta.concrete_fields] == [
        (f.attname, getattr(line, f.attname)) for line in stored.lines.order_by("pk")
        for f in SaleLine._meta.concrete_fields]
    assert body == sale_body(stored)


@pytest.mark.parametrize(
    "line, field",
    [(LineInput(unit_price_fen=100, quantity=0), "lines[0].quantity"),
     (LineInput(unit_price_fen=-1, quantity=1), "lines[0].unit_price_fen"),
     (LineInput(unit_price_fen=100, quantity=1, discount_fen=101), "lines[0].discount_fen")],
)
def test_sale_record_rejects_bad_lines_and_writes_nothing(member, store, line, field):
    with pytest.raises(ValidationError) as exc:
        sale_record(store=store, member=member, receipt_no="R9", sold_at=NOW, lines=[line])
    assert field in exc.value.message_dict
    assert Sale.objects.count() == 0 and SaleLine.objects.count() == 0


def test_sale_record_refuses_the_same_receipt_twice(sale, member, store):
    with pytest.raises(ValidationError, match="already recorded"):
        sale_record(store=store, member=member, receipt_no="R1", sold_at=NOW, lines=[LineInput(100, 1)])
    assert Sale.objects.count() == 1


def test_whole_refund_returns_exactly_what_was_paid(sale):
    refund = refund_record(sale=sale, refund_no="T1", refunded_at=NOW)
    assert refund.amount_fen == sale.total_fen
    with pytest.raises(ValidationError, match="already been refunded"):
        refund_record(sale=sale, refund_no="T2", refunded_at=NOW)


def test_partial_refunds_add_up_to_the_line_amount(sale):
    # given a line of 2 dresses that paid 538.20 after a discount
    line = sale.lines.get(sku="EL-001")
    # when they come back one at a time
    first = refund_record(sale=sale, refund_no="T1", refunded_at=NOW, lines=[RefundLineInput(line.pk, 1)])
    second = refund_record(sale=sale, refund_no="T2", refunded_at=NOW, lines=[RefundLineInput(line.pk, 1)])
    # then each pays back half the discounted price, and together exactly what was paid
    assert first.amount_fen == 26910
    assert first.amount_fen + second.amount_fen == line.amount_fen
    with pytest.raises(ValidationError, match="only 0 left"):
        refund_record(sale=sale, refund_no="T3", refunded_at=NOW, lines=[RefundLineInput(line.pk, 1)])


def test_refund_of_a_line_of_another_sale_is_refused(sale, member, store):
    other = sale_record(store=store, member=member, receipt_no="R2", sold_at=NOW, lines=[LineInput(100, 1)])
    with pytest.raises(ValidationError) as exc:
        refund_record(sale=sale, refund_no="T1", refunded_at=NOW,
                      lines=[RefundLineInput(other.lines.get().pk, 1)])
    assert "lines[0].sale_line_id" in exc.value.message_dict
    assert Refund.objects.count() == 0


def test_refund_number_is_unique_per_store(sale):
    refund_record(sale=sale, refund_no="T1", refunded_at=NOW, lines=[RefundLineInput(sale.lines.first().pk, 1)])
    with pytest.raises(ValidationError, match="already recorded"):
        refund_record(sale=sale, refund_no="T1", refunded_at=NOW + datetime.timedelta(minutes=1))


def test_refund_with_an_empty_list_of_lines_is_refused(sale):
    with pytest.raises(ValidationError) as exc:
        refund_record(sale=sale, refund_no="T1", refunded_at=NOW, lines=[])
    assert "lines" in exc.value.message_dict
    assert Refund.objects.count() == 0


def test_refund_before_its_sale_is_refused(sale):
    with pytest.raises(ValidationError) as exc:
        refund_record(sale=sale, refund_no="T1", refunded_at=NOW - datetime.timedelta(days=1))
    assert "refunded_at" in exc.value.message_dict
    assert Refund.objects.count() == 0
