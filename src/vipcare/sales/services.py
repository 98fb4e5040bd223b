"""The only code that records sales and refunds."""

import dataclasses
import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum

from vipcare.core import ledgers
from vipcare.members.choices import MemberStatus
from vipcare.members.models import Member
from vipcare.org.models import Staff, Store
from vipcare.sales.choices import SaleSource
from vipcare.sales.models import Refund, RefundLine, Sale, SaleLine


@dataclasses.dataclass(frozen=True)
class LineInput:
    unit_price_fen: int
    quantity: int
    brand: str = ""
    sku: str = ""
    category: str = ""
    discount_fen: int = 0


@dataclasses.dataclass(frozen=True)
class RefundLineInput:
    sale_line_id: int
    quantity: int


def _check_lines(lines: list[LineInput]) -> None:
    if not lines:
        raise ValidationError({"lines": "a sale needs at least one line"})
    errors = {}
    for i, line in enumerate(lines):
        if line.quantity <= 0:
            errors[f"lines[{i}].quantity"] = "must be at least 1"
        if line.unit_price_fen < 0:
            errors[f"lines[{i}].unit_price_fen"] = "must not be negative"
        if line.discount_fen < 0:
            errors[f"lines[{i}].discount_fen"] = "must not be negative"
        elif line.discount_fen > line.unit_price_fen * line.quantity:
            errors[f"lines[{i}].discount_fen"] = "is larger than the line's price"
    if errors:
        raise ValidationError(errors)


# Plain SQL (core.ledgers) for the statements every till checkout makes: the ORM's create and
# bulk_create cost about a tenth of a checkout's Python (docs/benchmarks.md, "Till").
_RECEIPT_TAKEN = f"SELECT 1 FROM {Sale._meta.db_table} WHERE store_id = %s AND receipt_no = %s"


@ledgers.atomic  # no savepoint of its own inside a checkout, which rolls everything back on a refusal
def sale_record(
    *,
    store: Store,
    member: Member,
    receipt_no: str,
    sold_at: datetime.datetime,
    lines: list[LineInput],
    staff: Staff | None = None,
    source: str = SaleSource.POS,
) -> Sale:
    """Record a member's purchase; it joins the member's history at once."""
    _check_lines(lines)
    if not receipt_no.strip():
        raise ValidationError({"receipt_no": "a sale needs its receipt number"})
    if member.status != MemberStatus.ACTIVE:
        raise ValidationError({"member": "this card was merged into another member; use that member"})
    if ledgers.fetch(_RECEIPT_TAKEN, [store.pk, receipt_no]):
        raise ValidationError({"receipt_no": "this receipt number was already recorded for this store"})
    amounts = [line.unit_price_fen * line.quantity - line.discount_fen for line in lines]
    sale = ledgers.insert(
        Sale, store=store, member=member, receipt_no=receipt_no, sold_at=sold_at, total_fen=sum(amounts),
        item_count=sum(line.quantity for line in lines), staff=staff, source=source,
    )
    sale_lines = [
        ledgers.insert(
            SaleLine, sale=sale, member=member, store=store, sold_at=sold_at, brand=line.brand, sku=line.sku,
            category=line.category, unit_price_fen=line.unit_price_fen, quantity=line.quantity,
            discount_fen=line.discount_fen, amount_fen=amount,
        )
        for line, amount in zip(lines, amounts, strict=True)
    ]
    # `sale.lines.all()` answers from these, in id order, without reading them back (sale_body), as
    # if prefetched (what prefetch_related leaves on an instance)
    cached = sale.lines.all()
    cached._result_cache, cached._prefetch_done = sale_lines, True
    sale._prefetched_objects_cache = {"lines": cached}  # the related name is the cache name
    return sale


@transaction.atomic
def refund_record(
    *,
    sale: Sale,
    refund_no: str,
    refunded_at: datetime.datetime,
    lines: list[RefundLineInput] | None = None,
    reason: str = "",
    source: str = SaleSource.POS,
) -> Refund:
    """Refund part or all of a sale. Without `lines`, everything not yet refunded goes back.

    Each line's refund is priced in proportion to what was paid for it (discount included), and
    the last unit refunded takes the remainder so a whole refund returns exactly the amount paid.
    """
    if not refund_no.strip():
        raise ValidationError({"refund_no": "a refund needs its own number"})
    if lines is not None and not lines:
        raise ValidationError({"lines": "name at least one line to refund, or none to refund everything"})
    sale = Sale.objects.select_for_update().get(pk=sale.pk)  # one refund of a sale at a time
    if refunded_at < sale.sold_at:
        raise ValidationError({"refunded_at": "a refund cannot be earlier than its sale"})
    if Refund.objects.filter(store=sale.store_id, refund_no=refund_no).exists():
        raise ValidationError({"refund_no": "this refund number was already recorded for this store"})
    sale_lines = {line.pk: line for line in sale.lines.all()}
    done = (
        RefundLine.objects.filter(sale_line__sale=sale)
        .values("sale_line")
        .annotate(q=Sum("quantity"), a=Sum("amount_fen"))
    )
    refunded = {row["sale_line"]: row["q"] for row in done}
    refunded_amount = {row["sale_line"]: row["a"] for row in done}
    if lines is None:
        lines = [RefundLineInput(pk, line.quantity - refunded.get(pk, 0)) for pk, line in sale_lines.items()
                 if line.quantity - refunded.get(pk, 0) > 0]
        if not lines:
            raise ValidationError({"sale": "everything on this sale has already been refunded"})
    errors, rows = {}, []
    for i, item in enumerate(lines):
        line = sale_lines.get(item.sale_line_id)
        if line is None:
            errors[f"lines[{i}].sale_line_id"] = "not a line of this sale"
            continue
        left = line.quantity - refunded.get(line.pk, 0)
        if item.quantity <= 0:
            errors[f"lines[{i}].quantity"] = "must be at least 1"
        elif item.quantity > left:
            errors[f"lines[{i}].quantity"] = f"only {left} left to refund on this line"
        else:
            if item.quantity == left:
                amount = line.amount_fen - refunded_amount.get(line.pk, 0)
            else:
                amount = line.amount_fen * item.quantity // line.quantity
            rows.append((line, item.quantity, amount))
    if errors:
        raise ValidationError(errors)
    refund = Refund.objects.create(
        sale=sale, store_id=sale.store_id, member_id=sale.member_id, refund_no=refund_no, refunded_at=refunded_at,
        amount_fen=sum(a for _, _, a in rows), reason=reason, source=source,
    )
    RefundLine.objects.bulk_create(
        RefundLine(refund=refund, sale_line=line, quantity=q, amount_fen=a) for line, q, a in rows
    )
    for hook in REFUND_HOOKS:  # what other apps did for the sale is reversed in the same transaction
        hook(refund=refund)
    return refund


# Apps that attach effects to a sale (the till: points, stored value, coupons, level) register a
# function here, called as hook(refund=refund) inside every refund's transaction, whichever way the
# refund arrives (POS API, till, staff), so a refund always reverses what its sale did.
REFUND_HOOKS: list = []
