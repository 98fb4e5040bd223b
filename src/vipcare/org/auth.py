"""API-key authentication for the POS API.

A till sends its key as `Authorization: Bearer <key>` or `X-Api-Key: <key>`. The key acts for
one store and only on the POS API: it is no login, and the API accepts no session cookies.
"""

from django.http import HttpRequest
from ninja.security import APIKeyHeader, HttpBearer

from vipcare.core import ledgers
from vipcare.org.models import ApiKey, Store

# Plain SQL (core.ledgers), as the ledgers' hot statements: every POS request looks its key up, and
# the ORM's select_related query cost about a tenth of a checkout's Python (docs/benchmarks.md, "Till").
# Read from the database on every request, never kept in the process: a revoked key, or a key of a
# store made inactive, is refused from the next request on.
_LIVE_KEY = ("key_hash = %s AND revoked_at IS NULL"
             f" AND store_id IN (SELECT id FROM {Store._meta.db_table} WHERE is_active = %s)")


def api_key_for(raw: str | None) -> ApiKey | None:
    """The live key matching `raw`: not revoked, of an active store. Looked up by its hash."""
    raw = (raw or "").strip()
    if not raw:
        return None
    found = ledgers.select(ApiKey, _LIVE_KEY, [ApiKey.hash_key(raw), True])
    if not found:
        return None
    api_key = found[0]
    api_key.store = ledgers.select(Store, "id = %s", [api_key.store_id])[0]
    return api_key


class BearerApiKey(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        return api_key_for(token)


class HeaderApiKey(APIKeyHeader):
    param_name = "X-Api-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        return api_key_for(key)


# Either header works; ninja tries them in order and answers 401 if neither gives a live key.
pos_auth = [BearerApiKey(), HeaderApiKey()]
