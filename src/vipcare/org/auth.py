"""API-key authentication for the POS API.

A till sends its key as `Authorization: Bearer <key>` or `X-Api-Key: <key>`. The key acts for
one store and only on the POS API: it is no login, and the API accepts no session cookies.
"""

from django.http import HttpRequest
from ninja.security import APIKeyHeader, HttpBearer

from vipcare.org.models import ApiKey


def api_key_for(raw: str | None) -> ApiKey | None:
    """The live key matching `raw`: not revoked, of an active store. Looked up by its hash."""
    raw = (raw or "").strip()
    if not raw:
        return None
    return (
        ApiKey.objects.select_related("store")
        .filter(key_hash=ApiKey.hash_key(raw), revoked_at__isnull=True, store__is_active=True)
        .first()
    )


class BearerApiKey(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        return api_key_for(token)


class HeaderApiKey(APIKeyHeader):
    param_name = "X-Api-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        return api_key_for(key)


# Either header works; ninja tries them in order and answers 401 if neither gives a live key.
pos_auth = [BearerApiKey(), HeaderApiKey()]
