"""Request and response shapes of the POS API. Amounts are integer fen (分)."""

import datetime

from django.utils import timezone
from ninja import Field, Schema

from vipcare.core.masking import mask_phone
from vipcare.members.models import Member
from vipcare.sales.models import Refund, Sale

# Bounds that keep absurd numbers out of the database's 64-bit columns; the services check the
# business rules (quantity at least 1, discount not above the price, ...).
MAX_FEN = 10**12  # ¥10 billion
MAX_QUANTITY = 100_000
MAX_LINES = 500


class ErrorOut(Schema):
    detail: str
    errors: dict[str, str] | None = Field(None, description="field → message, for invalid input")


class IdentifyIn(Schema):
    identifier: str = Field(..., min_length=1, max_length=200,
                            description="phone number, card number or the QR code's payload")


class MemberOut(Schema):
    """What a till may see of a member: never unmasked personal data."""

    id: int
    card_no: str
    name: str
    phone_masked: str


class MemberConflictOut(Schema):
    detail: str
    member: MemberOut


class MemberEnrollIn(Schema):
    name: str = Field(..., min_length=1, max_length=50)
    phone: str = Field(..., min_length=1, max_length=32)
    gender: str = Field("U", pattern="^[FMU]$", description="F, M or U (unknown)")
    consent_sms: bool = False
    consent_phone: bool = False
    consent_wechat: bool = False
    consent_email: bool = False
    staff_no: str | None = Field(None, max_length=32, description="the staff member who registered the member")


class SaleLineIn(Schema):
    brand: str = Field("", max_length=100)
    sku: str = Field("", max_length=64)
    category: str = Field("", max_length=50)
    unit_price_fen: int = Field(..., le=MAX_FEN)
    quantity: int = Field(..., le=MAX_QUANTITY)
    discount_fen: int = Field(0, le=MAX_FEN)


class SaleIn(Schema):
    member: str = Field(..., min_length=1, max_length=200,
                        description="the member's card number (as returned by identify), phone or QR payload")
    lines: list[SaleLineIn] = Field(..., max_length=MAX_LINES)
    store_code: str | None = Field(None, max_length=32, description="defaults to the API key's store")
    receipt_no: str | None = Field(None, max_length=64, description="generated from the idempotency key if absent")
    sold_at: datetime.datetime | None = Field(None, description="defaults to now; without an offset, local time")
    staff_no: str | None = Field(None, max_length=32, description="the staff member who served")


class SaleLineOut(Schema):
    id: int
    brand: str
    sku: str
    category: str
    unit_price_fen: int
    quantity: int
    discount_fen: int
    amount_fen: int


class SaleOut(Schema):
    id: int
    store_code: str
    receipt_no: str
    sold_at: datetime.datetime
    total_fen: int
    item_count: int
    staff_no: str | None
    member: MemberOut
    lines: list[SaleLineOut]


class RefundLineIn(Schema):
    sale_line_id: int
    quantity: int = Field(..., le=MAX_QUANTITY)


class RefundIn(Schema):
    lines: list[RefundLineIn] | None = Field(None, min_length=1, max_length=MAX_LINES,
                                             description="omit to refund everything not yet refunded")
    refund_no: str | None = Field(None, max_length=64, description="generated from the idempotency key if absent")
    refunded_at: datetime.datetime | None = None
    reason: str = Field("", max_length=200)


class RefundLineOut(Schema):
    sale_line_id: int
    quantity: int
    amount_fen: int


class RefundOut(Schema):
    id: int
    sale_id: int
    store_code: str
    refund_no: str
    refunded_at: datetime.datetime
    amount_fen: int
    reason: str
    sale_total_fen: int
    refunded_total_fen: int = Field(..., description="all refunds of this sale so far, this one included")
    member: MemberOut
    lines: list[RefundLineOut]


# Builders of JSON-ready bodies: the idempotency record stores exactly what the client got.

def member_body(member: Member) -> dict:
    return MemberOut(id=member.pk, card_no=member.card_no, name=member.name,
                     phone_masked=mask_phone(member.phone)).model_dump(mode="json")


def sale_body(sale: Sale) -> dict:
    return SaleOut(
        id=sale.pk, store_code=sale.store.code, receipt_no=sale.receipt_no, sold_at=timezone.localtime(sale.sold_at),
        total_fen=sale.total_fen, item_count=sale.item_count, staff_no=sale.staff.staff_no if sale.staff else None,
        member=member_body(sale.member),
        # all() rather than order_by(): a sale just recorded has its lines with it (sale_record)
        lines=[SaleLineOut.model_validate(line, from_attributes=True)
               for line in sorted(sale.lines.all(), key=lambda line: line.pk)],
    ).model_dump(mode="json")


def refund_body(refund: Refund) -> dict:
    sale = refund.sale
    return RefundOut(
        id=refund.pk, sale_id=sale.pk, store_code=sale.store.code, refund_no=refund.refund_no,
        refunded_at=timezone.localtime(refund.refunded_at), amount_fen=refund.amount_fen, reason=refund.reason,
        sale_total_fen=sale.total_fen,
        refunded_total_fen=sum(sale.refunds.values_list("amount_fen", flat=True)),
        member=member_body(refund.member),
        lines=[RefundLineOut(sale_line_id=line.sale_line_id, quantity=line.quantity, amount_fen=line.amount_fen)
               for line in refund.lines.order_by("pk")],
    ).model_dump(mode="json")
