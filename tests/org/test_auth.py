"""The POS API key look-up (plain SQL, read on every request)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from vipcare.org.auth import api_key_for
from vipcare.org.models import Store
from vipcare.org.services import api_key_issue, api_key_revoke


def test_live_key_comes_with_its_store(db):
    store = factories.store(code="K01")
    key, raw = api_key_issue(store=store, name="till 1")
    found = api_key_for(f"  {raw} ")
    assert found == key and found.name == "till 1" and found.revoked_at is None
    with CaptureQueriesContext(connection) as queries:
        assert found.store.code == "K01" and found.store.is_active
    assert len(queries) == 0  # the store came with the key


def test_unknown_blank_and_other_keys_find_nothing(db):
    key, raw = api_key_issue(store=factories.store(), name="till")
    assert api_key_for(None) is None
    assert api_key_for("   ") is None
    assert api_key_for(raw + "x") is None
    assert api_key_for(key.key_hash) is None  # the stored hash is not a key


def test_revoked_key_is_refused_from_the_next_look_up(db):
    key, raw = api_key_issue(store=factories.store(), name="till")
    assert api_key_for(raw) == key
    api_key_revoke(api_key=key)
    assert api_key_for(raw) is None  # nothing kept between look-ups


def test_key_of_an_inactive_store_is_refused(db):
    store = factories.store()
    key, raw = api_key_issue(store=store, name="till")
    assert api_key_for(raw) == key
    Store.objects.filter(pk=store.pk).update(is_active=False)
    assert api_key_for(raw) is None
    Store.objects.filter(pk=store.pk).update(is_active=True)
    assert api_key_for(raw) == key
