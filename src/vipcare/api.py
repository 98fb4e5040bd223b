"""The POS and partner API, assembled from each app's router (OpenAPI at /api/docs).

Every error has one shape: {"detail": "...", "errors": {"field": "message"}} (errors only
where a field is to blame), so a till can show the message next to the field.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as SchemaValidationError

from vipcare.core.idempotency import IdempotencyError

api = NinjaAPI(title="vipcare POS API", version="1", urls_namespace="api")


def _error(request: HttpRequest, status: int, detail: str, errors: dict[str, str] | None = None) -> HttpResponse:
    body = {"detail": detail}
    if errors:
        body["errors"] = errors
    return api.create_response(request, body, status=status)


def _invalid(request: HttpRequest, errors: dict[str, str]) -> HttpResponse:
    detail = "; ".join(f"{field}: {message}" for field, message in errors.items())
    return _error(request, 422, detail, errors)


def _field_name(loc: tuple) -> str:
    """("body", "payload", "lines", 0, "quantity") → "lines[0].quantity", as the services name fields."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "form"):
        source = parts.pop(0)
        if source == "body" and parts and parts[0] == "payload":
            parts.pop(0)
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or NON_FIELD_ERRORS


@api.exception_handler(SchemaValidationError)
def _schema_invalid(request: HttpRequest, exc: SchemaValidationError) -> HttpResponse:
    errors: dict[str, str] = {}
    for error in exc.errors:
        errors.setdefault(_field_name(tuple(error.get("loc", ()))), error.get("msg", _("invalid")))
    return _invalid(request, errors)


@api.exception_handler(DjangoValidationError)
def _service_invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        errors = {field: "; ".join(messages) for field, messages in exc.message_dict.items()}
    else:
        errors = {NON_FIELD_ERRORS: "; ".join(exc.messages)}
    return _invalid(request, errors)


@api.exception_handler(IdempotencyError)
def _idempotency_refused(request: HttpRequest, exc: IdempotencyError) -> HttpResponse:
    return _error(request, exc.status_code, exc.message, {"Idempotency-Key": exc.message})


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(request, 401, _("a valid, unrevoked API key is required "
                                      "(Authorization: Bearer <key> or X-Api-Key: <key>)"))
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, _("not found"))


@api.exception_handler(IntegrityError)
def _conflict(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    # A unique number (receipt, refund) taken by another request committed at the same moment.
    return _error(request, 409, _("this request conflicts with one recorded at the same time; "
                                  "check the receipt or refund number and retry"))


from vipcare.sales.api import router as pos_router  # noqa: E402

api.add_router("/pos", pos_router, tags=["POS"])
from vipcare.till.api import router as till_router  # noqa: E402

api.add_router("/pos/till", till_router, tags=["Till"])
from vipcare.rewards.api import router as rewards_router  # noqa: E402

api.add_router("/pos/rewards", rewards_router, tags=["Rewards"])
from vipcare.wallet.api import router as wallet_router  # noqa: E402

api.add_router("/pos/wallet", wallet_router, tags=["Stored value"])
