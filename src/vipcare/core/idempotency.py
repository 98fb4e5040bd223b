"""Writes that have their effect once, however often a client retries them.

A client sends an idempotency key with every write. The first request with a key claims it by
inserting an IdempotencyRecord inside the same transaction as the write, then stores the
response there before committing. A retry finds the record and gets the stored response back.
See docs/adr/0001-idempotent-pos-writes.md for the reasoning.

Only successful (2xx) responses are recorded. A refusal (4xx, or an exception) rolls back the
claim together with everything else, so the same key can be used again for a corrected request.

Concurrency: the claim is the first row written. A second request with the same key either
waits for the first one's transaction at BEGIN (SQLite, IMMEDIATE transactions) and then finds
its record, or blocks on the uncommitted unique row (PostgreSQL) and fails with IntegrityError
once the first commits; both end by replaying the stored response.
"""

import dataclasses
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from vipcare.core import ledgers
from vipcare.core.models import IdempotencyRecord

MAX_KEY_LENGTH = IdempotencyRecord._meta.get_field("key").max_length


class IdempotencyError(Exception):
    """The idempotency key is missing, malformed or was used for a different request."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


@dataclasses.dataclass(frozen=True)
class IdempotentResult:
    status_code: int
    body: Any
    replayed: bool  # True when the body is the stored answer to an earlier request


class _Refused(Exception):
    """Carries a non-2xx answer out of the transaction so that the claim is rolled back."""

    def __init__(self, status_code: int, body: Any) -> None:
        super().__init__(status_code)
        self.status_code = status_code
        self.body = body


def request_fingerprint(*, operation: str, payload: Any) -> str:
    """A hash of what the request asks for: the same request gives the same hash, whatever the
    key order or whitespace of the JSON the client sent."""
    canonical = json.dumps([operation, payload], sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_idempotency_key(key: str | None) -> str:
    key = (key or "").strip()
    if not key:
        raise IdempotencyError(400, _("an Idempotency-Key header is required for this request"))
    if len(key) > MAX_KEY_LENGTH:
        raise IdempotencyError(400, _("the Idempotency-Key header may be at most %(n)d characters")
                               % {"n": MAX_KEY_LENGTH})
    return key


def _replay(record: IdempotencyRecord, *, operation: str, request_hash: str) -> IdempotentResult:
    if record.operation != operation or record.request_hash != request_hash:
        raise IdempotencyError(422, _("idempotency key reused with a different request"))
    return IdempotentResult(status_code=record.status_code, body=record.response, replayed=True)


def _find(api_key, key: str) -> IdempotencyRecord | None:
    # plain SQL (core.ledgers) for the look-up every write makes first; the ORM only for a replay
    found = ledgers.fetch(_FIND, [api_key.pk, key])
    return IdempotencyRecord.objects.get(pk=found[0][0]) if found else None


_FIND = "SELECT id FROM core_idempotencyrecord WHERE api_key_id = %s AND \"key\" = %s"
_ANSWER = "UPDATE core_idempotencyrecord SET status_code = %s, response = %s WHERE id = %s"
_RESPONSE = IdempotencyRecord._meta.get_field("response")


def idempotent(
    *,
    api_key,
    key: str | None,
    operation: str,
    payload: Any,
    perform: Callable[[], tuple[int, Any]],
) -> IdempotentResult:
    """Run `perform` once per (api_key, key); later calls get its stored (status, body).

    `payload` is the parsed request (JSON-able) that a retry must repeat exactly; `perform`
    does the write and returns (status, JSON-able body). It runs inside the transaction that
    also stores the answer, so either both are committed or neither is.
    """
    key = check_idempotency_key(key)
    request_hash = request_fingerprint(operation=operation, payload=payload)
    record = _find(api_key, key)
    if record is not None:  # the common retry: no transaction needed
        return _replay(record, operation=operation, request_hash=request_hash)
    try:
        with transaction.atomic():
            # Claim the key before writing anything, so a concurrent twin waits here.
            record = ledgers.insert(IdempotencyRecord, api_key=api_key, key=key, operation=operation,
                                    request_hash=request_hash, status_code=0, response={})
            status_code, body = perform()
            if not 200 <= status_code < 300:
                raise _Refused(status_code, body)
            ledgers.execute(_ANSWER, [status_code, _RESPONSE.get_db_prep_save(body, connection), record.pk])
    except _Refused as refused:
        return IdempotentResult(status_code=refused.status_code, body=refused.body, replayed=False)
    except IntegrityError:
        # Either a twin request committed this key first (replay its answer), or the write
        # itself hit a unique constraint, which the caller must report.
        record = _find(api_key, key)
        if record is None:
            raise
        return _replay(record, operation=operation, request_hash=request_hash)
    return IdempotentResult(status_code=status_code, body=body, replayed=False)
