"""The stored-value endpoints of the POS API (mounted at /api/pos/wallet): a member loads their card
(储值) at the till, by a top-up plan or a plain amount, paid in the key's store.

The handler parses, calls the one service inside the idempotency helper (ADR 0001) and answers;
a retry with the same Idempotency-Key gets the first answer and loads nothing more.
"""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Router, Status

from vipcare.core.idempotency import idempotent
from vipcare.members.selectors import member_identify
from vipcare.org.auth import pos_auth
from vipcare.sales.api import IdempotencyKey, _answer, _key_of
from vipcare.wallet import schemas
from vipcare.wallet.models import TopUpPlan
from vipcare.wallet.services import wallet_top_up

router = Router(auth=pos_auth)


@router.post("/top-ups", response={201: schemas.TopUpOut, 404: schemas.ErrorOut, 422: schemas.ErrorOut},
             summary="Load a member's card by a top-up plan or a plain amount, paid in this store")
def top_up_view(request: HttpRequest, response: HttpResponse, payload: schemas.TopUpIn,
                idempotency_key: str | None = IdempotencyKey):
    api_key = _key_of(request)
    member = member_identify(payload.member)
    if member is None:
        message = "no member with this card number, phone or QR code"
        return Status(404, {"detail": f"member: {message}", "errors": {"member": message}})

    def perform() -> tuple[int, dict]:
        plan = None
        if payload.plan_id is not None:
            plan = TopUpPlan.objects.filter(pk=payload.plan_id).first()
            if plan is None:
                raise ValidationError({"plan_id": "no top-up plan with this id"})
        entry = wallet_top_up(member=member, store=api_key.store, plan=plan, pay_fen=payload.amount_fen,
                              idempotency_key=f"pos:{api_key.pk}:{(idempotency_key or '').strip()}")
        return 201, schemas.top_up_body(entry, card_no=member.card_no)

    result = idempotent(api_key=api_key, key=idempotency_key, operation="wallet.top_up",
                        payload=payload.model_dump(mode="json"), perform=perform)
    return _answer(response, result)
