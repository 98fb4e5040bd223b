"""The POS API: identify and enrol members, record sales and refunds (mounted at /api/pos).

Handlers parse, check the key's store, call one selector or service inside the idempotency
helper and return. Every write needs an Idempotency-Key header (see docs/api.md).
"""

import datetime
import hashlib

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Router, Status
from ninja.errors import HttpError

from vipcare.core.idempotency import IdempotentResult, idempotent
from vipcare.members.choices import MemberSource
from vipcare.members.models import Member
from vipcare.members.selectors import member_identify
from vipcare.members.services import member_enroll
from vipcare.org.auth import pos_auth
from vipcare.org.models import ApiKey, Staff, Store
from vipcare.sales import schemas
from vipcare.sales.choices import SaleSource
from vipcare.sales.models import Sale
from vipcare.sales.services import LineInput, RefundLineInput, refund_record, sale_record

router = Router(auth=pos_auth)

IdempotencyKey = Header(None, alias="Idempotency-Key", description="required: a fresh value per write, "
                        "repeated unchanged on every retry of it")
# How far ahead of the server's clock a till's time may be before we call it a mistake.
CLOCK_SKEW = datetime.timedelta(minutes=10)


def _answer(response: HttpResponse, result: IdempotentResult) -> Status:
    if result.replayed:
        response["Idempotent-Replayed"] = "true"
    return Status(result.status_code, result.body)


def _key_of(request: HttpRequest) -> ApiKey:
    return request.auth  # set by pos_auth: a live key of an active store


def _number_from_key(prefix: str, api_key: ApiKey, idempotency_key: str | None) -> str:
    """A receipt or refund number for tills that have none: the same on every retry."""
    digest = hashlib.sha256(f"{api_key.pk}:{(idempotency_key or '').strip()}".encode()).hexdigest()
    return f"{prefix}-{digest[:16].upper()}"


def _when(value: datetime.datetime | None, field: str) -> datetime.datetime:
    now = timezone.now()
    if value is None:
        return now
    if timezone.is_naive(value):  # a till's local time
        value = timezone.make_aware(value)
    if value > now + CLOCK_SKEW:
        raise ValidationError({field: _("is in the future")})
    return value


def _member(identifier: str, field: str = "member") -> Member:
    member = member_identify(identifier)
    if member is None:
        raise ValidationError({field: _("no member with this card number, phone or QR code")})
    return member


def _staff(staff_no: str | None, store: Store, field: str = "staff_no") -> Staff | None:
    if not staff_no:
        return None
    staff = Staff.objects.filter(staff_no=staff_no, organisation_id=store.organisation_id, is_active=True).first()
    if staff is None:
        raise ValidationError({field: _("no active staff member with this number")})
    if not staff.sees_all_stores and not staff.stores.filter(pk=store.pk).exists():
        raise ValidationError({field: _("this staff member does not work in store %(store)s") % {"store": store.code}})
    return staff


@router.post("/members/identify", response={200: schemas.MemberOut, 404: schemas.ErrorOut},
             summary="Identify a member by phone, card number or QR code")
def member_identify_view(request: HttpRequest, payload: schemas.IdentifyIn):
    # A read, sent as POST so that phone numbers stay out of URLs and access logs.
    member = member_identify(payload.identifier)
    if member is None:
        return Status(404, {"detail": _("no member with this card number, phone or QR code"),
                            "errors": {"identifier": _("not found")}})
    return Status(200, schemas.member_body(member))


@router.post("/members", response={201: schemas.MemberOut, 409: schemas.MemberConflictOut, 422: schemas.ErrorOut},
             summary="Enrol a member at the till")
def member_enroll_view(request: HttpRequest, response: HttpResponse, payload: schemas.MemberEnrollIn,
                       idempotency_key: str | None = IdempotencyKey):
    api_key = _key_of(request)

    def perform() -> tuple[int, dict]:
        existing = member_identify(payload.phone)
        if existing is not None:  # one archive: the till must use the existing card
            return 409, {"detail": _("this phone number already belongs to a member"),
                         "member": schemas.member_body(existing)}
        member = member_enroll(
            name=payload.name, phone=payload.phone, gender=payload.gender, source=MemberSource.POS,
            home_store=api_key.store, registered_by=_staff(payload.staff_no, api_key.store),
            consent_sms=payload.consent_sms, consent_phone=payload.consent_phone,
            consent_wechat=payload.consent_wechat, consent_email=payload.consent_email,
        )
        return 201, schemas.member_body(member)

    return _answer(response, idempotent(api_key=api_key, key=idempotency_key, operation="pos.member_enroll",
                                        payload=payload.model_dump(mode="json"), perform=perform))


@router.post("/sales", response={201: schemas.SaleOut, 403: schemas.ErrorOut, 422: schemas.ErrorOut},
             summary="Record a sale")
def sale_record_view(request: HttpRequest, response: HttpResponse, payload: schemas.SaleIn,
                     idempotency_key: str | None = IdempotencyKey):
    api_key = _key_of(request)
    store = api_key.store
    if payload.store_code and payload.store_code != store.code:
        raise HttpError(403, _("this API key records sales for store %(own)s only, not for store %(other)s")
                        % {"own": store.code, "other": payload.store_code})

    def perform() -> tuple[int, dict]:
        sale = sale_record(
            store=store, member=_member(payload.member),
            receipt_no=payload.receipt_no or _number_from_key("R", api_key, idempotency_key),
            sold_at=_when(payload.sold_at, "sold_at"), staff=_staff(payload.staff_no, store), source=SaleSource.POS,
            lines=[LineInput(**line.model_dump()) for line in payload.lines],
        )
        return 201, schemas.sale_body(sale)

    return _answer(response, idempotent(api_key=api_key, key=idempotency_key, operation="pos.sale_record",
                                        payload=payload.model_dump(mode="json"), perform=perform))


@router.post("/sales/{sale_id}/refunds",
             response={201: schemas.RefundOut, 403: schemas.ErrorOut, 404: schemas.ErrorOut, 422: schemas.ErrorOut},
             summary="Refund a sale, whole or some of its lines")
def refund_record_view(request: HttpRequest, response: HttpResponse, sale_id: int, payload: schemas.RefundIn,
                       idempotency_key: str | None = IdempotencyKey):
    api_key = _key_of(request)
    sale = Sale.objects.select_related("store").filter(pk=sale_id).first()
    if sale is None:
        raise HttpError(404, _("no sale with id %(id)s") % {"id": sale_id})
    if sale.store_id != api_key.store_id:
        raise HttpError(403, _("this API key refunds sales of store %(own)s only; this sale belongs to store "
                               "%(other)s") % {"own": api_key.store.code, "other": sale.store.code})

    def perform() -> tuple[int, dict]:
        lines = None
        if payload.lines is not None:
            lines = [RefundLineInput(sale_line_id=line.sale_line_id, quantity=line.quantity) for line in payload.lines]
        refund = refund_record(
            sale=sale, refund_no=payload.refund_no or _number_from_key("F", api_key, idempotency_key),
            refunded_at=_when(payload.refunded_at, "refunded_at"), lines=lines, reason=payload.reason,
            source=SaleSource.POS,
        )
        return 201, schemas.refund_body(refund)

    return _answer(response, idempotent(api_key=api_key, key=idempotency_key, operation="pos.refund_record",
                                        payload={"sale_id": sale_id, **payload.model_dump(mode="json")},
                                        perform=perform))
