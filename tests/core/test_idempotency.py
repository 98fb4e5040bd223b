import pytest
from django.db import IntegrityError
from django.utils import translation

from tests import factories
from vipcare.core.idempotency import IdempotencyError, idempotent, request_fingerprint
from vipcare.core.models import AuditAction, AuditLogEntry, IdempotencyRecord
from vipcare.org.models import Store
from vipcare.org.services import api_key_issue


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):  # the messages are checked in English
        yield


@pytest.fixture
def api_key(db):
    key, _raw = api_key_issue(store=factories.store(), name="till 1")
    AuditLogEntry.objects.all().delete()  # count only what the tests write
    return key


class Writer:
    """A stand-in for a service: writes one row per call and answers with its id."""

    def __init__(self, status: int = 201):
        self.calls = 0
        self.status = status

    def __call__(self):
        self.calls += 1
        entry = AuditLogEntry.objects.create(action=AuditAction.EXPORT)
        return self.status, {"id": entry.pk}


def test_idempotent_runs_once_and_replays_the_stored_answer(api_key):
    # given a first write with key k1
    write = Writer()
    first = idempotent(api_key=api_key, key="k1", operation="test.write", payload={"a": 1}, perform=write)
    # when the same request is retried
    again = idempotent(api_key=api_key, key="k1", operation="test.write", payload={"a": 1}, perform=write)
    # then the write happened once and the retry got the same answer, marked as replayed
    assert write.calls == 1
    assert AuditLogEntry.objects.count() == 1
    assert (first.status_code, first.body, first.replayed) == (201, {"id": AuditLogEntry.objects.get().pk}, False)
    assert (again.status_code, again.body, again.replayed) == (201, first.body, True)
    assert IdempotencyRecord.objects.get().response == first.body


def test_idempotent_refuses_the_same_key_for_a_different_request(api_key):
    write = Writer()
    idempotent(api_key=api_key, key="k1", operation="test.write", payload={"a": 1}, perform=write)
    for operation, payload in [("test.write", {"a": 2}), ("test.other", {"a": 1})]:
        with pytest.raises(IdempotencyError) as exc:
            idempotent(api_key=api_key, key="k1", operation=operation, payload=payload, perform=write)
        assert exc.value.status_code == 422
        assert "different request" in exc.value.message
    assert write.calls == 1


@pytest.mark.parametrize("key", [None, "", "   ", "x" * 129])
def test_idempotent_requires_a_usable_key(api_key, key):
    write = Writer()
    with pytest.raises(IdempotencyError) as exc:
        idempotent(api_key=api_key, key=key, operation="test.write", payload={}, perform=write)
    assert exc.value.status_code == 400
    assert write.calls == 0
    assert IdempotencyRecord.objects.count() == 0


def test_idempotent_failed_write_leaves_the_key_free(api_key):
    # given a write that fails half-way (a row written, then an error)
    def failing():
        AuditLogEntry.objects.create(action=AuditAction.EXPORT)
        raise ValueError("bad input")

    with pytest.raises(ValueError):
        idempotent(api_key=api_key, key="k1", operation="test.write", payload={"a": 1}, perform=failing)
    # then nothing is kept, and a corrected request may use the same key
    assert AuditLogEntry.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0
    result = idempotent(api_key=api_key, key="k1", operation="test.write", payload={"a": 2}, perform=Writer())
    assert result.status_code == 201 and not result.replayed


def test_idempotent_refusal_is_returned_but_not_recorded(api_key):
    # given a write that answers 409 after writing a row
    write = Writer(status=409)
    result = idempotent(api_key=api_key, key="k1", operation="test.write", payload={}, perform=write)
    # then the client gets the answer, but the row and the claim are rolled back
    assert result.status_code == 409 and not result.replayed
    assert AuditLogEntry.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0
    # and a retry runs again
    idempotent(api_key=api_key, key="k1", operation="test.write", payload={}, perform=write)
    assert write.calls == 2


def test_idempotent_keys_belong_to_one_api_key(api_key):
    other_key, _raw = api_key_issue(store=Store.objects.get(), name="till 2")
    write = Writer()
    idempotent(api_key=api_key, key="k1", operation="test.write", payload={}, perform=write)
    result = idempotent(api_key=other_key, key="k1", operation="test.write", payload={}, perform=write)
    assert write.calls == 2 and not result.replayed


def test_idempotent_reraises_a_conflict_of_the_write_itself(api_key):
    # given a write that breaks a unique constraint other than the idempotency key's
    def duplicate_store():
        store = Store.objects.get()
        Store.objects.create(organisation_id=store.organisation_id, code=store.code, name="copy")
        return 201, {}

    with pytest.raises(IntegrityError):
        idempotent(api_key=api_key, key="k1", operation="test.write", payload={}, perform=duplicate_store)
    assert IdempotencyRecord.objects.count() == 0


def test_request_fingerprint_ignores_key_order_but_not_values():
    a = request_fingerprint(operation="op", payload={"x": 1, "y": [1, 2]})
    assert a == request_fingerprint(operation="op", payload={"y": [1, 2], "x": 1})
    assert a != request_fingerprint(operation="op", payload={"x": 1, "y": [2, 1]})
    assert a != request_fingerprint(operation="other", payload={"x": 1, "y": [1, 2]})
