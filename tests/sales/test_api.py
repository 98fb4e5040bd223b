import datetime
import http.client
import io
import json
import threading
import urllib.parse

import pytest
from django.core.management import call_command
from django.utils import timezone, translation
from ninja.testing import TestClient

from tests import factories
from vipcare.api import api
from vipcare.core.models import IdempotencyRecord
from vipcare.members import cards
from vipcare.members.models import Member
from vipcare.org.models import ApiKey
from vipcare.org.services import api_key_issue, api_key_revoke
from vipcare.sales.models import Refund, RefundLine, Sale, SaleLine

client = TestClient(api)
_keys = iter(range(1, 10**6))


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):  # the messages are checked in English
        yield


@pytest.fixture
def till(store):
    """A POS terminal of `store`: its ApiKey row and the raw key it sends."""
    return api_key_issue(store=store, name="till 1")


def post(path: str, body, raw_key: str | None, *, key: str | None = "auto", header: str = "bearer", **kwargs):
    headers = {}
    if raw_key:
        headers.update({"Authorization": f"Bearer {raw_key}"} if header == "bearer" else {"X-Api-Key": raw_key})
    if key == "auto":
        key = f"test-{next(_keys)}"
    if key is not None:
        headers["Idempotency-Key"] = key
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", headers=headers, **kwargs)


def sale_body(who: Member, **fields) -> dict:
    body = {
        "member": who.card_no,
        "receipt_no": "R0001",
        "lines": [
            {"brand": "E·LAND", "sku": "EL-2026-001", "category": "dress", "unit_price_fen": 59900, "quantity": 2,
             "discount_fen": 10000},
            {"brand": "E·LAND", "sku": "EL-2026-002", "category": "scarf", "unit_price_fen": 19900, "quantity": 1},
        ],
    }
    body.update(fields)
    return body


def counts() -> dict:
    return {model.__name__: model.objects.count()
            for model in (Member, Sale, SaleLine, Refund, RefundLine, IdempotencyRecord)}


# --- identify and enrol -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["phone", "card", "qr"])
def test_identify_finds_member_by_phone_card_or_qr(member, till, how):
    identifier = {"phone": "138 1234 5678", "card": member.card_no, "qr": cards.qr_payload(member.card_no)}[how]
    response = post("/pos/members/identify", {"identifier": identifier}, till[1], key=None)
    assert response.status_code == 200
    assert response.json() == {"id": member.pk, "card_no": member.card_no, "name": "李娜",
                               "phone_masked": "138****5678"}
    assert "13812345678" not in response.content.decode()


def test_identify_unknown_member_is_404(member, till):
    response = post("/pos/members/identify", {"identifier": "13900000000"}, till[1], key=None)
    assert response.status_code == 404
    assert "identifier" in response.json()["errors"]


def test_member_enroll_at_the_till(store, till, cashier):
    response = post("/pos/members", {"name": "张伟", "phone": "13900001111", "consent_sms": True,
                                     "staff_no": cashier.staff_no}, till[1])
    assert response.status_code == 201, response.json()
    member = Member.objects.get()
    assert response.json() == {"id": member.pk, "card_no": member.card_no, "name": "张伟",
                               "phone_masked": "139****1111"}
    assert (member.home_store, member.source, member.consent_sms, member.consent_email) == (store, "pos", True, False)
    assert member.registered_by == cashier


def test_member_enroll_refuses_a_known_phone_with_that_member(member, till):
    before = counts()
    response = post("/pos/members", {"name": "李娜", "phone": "+86 13812345678"}, till[1])
    assert response.status_code == 409
    assert response.json()["member"]["card_no"] == member.card_no
    assert "13812345678" not in response.content.decode()
    assert counts() == before


# --- sales and refunds ------------------------------------------------------------------------------------------

def test_sale_record_returns_ids_and_totals(member, till, cashier):
    # given a member at the till of store F101
    # when the till records two lines, one discounted
    response = post("/pos/sales", sale_body(member, staff_no=cashier.staff_no), till[1])
    # then the sale is in the member's history with the right totals
    assert response.status_code == 201, response.json()
    body = response.json()
    sale = Sale.objects.get()
    assert body["id"] == sale.pk and body["store_code"] == "F101" and body["receipt_no"] == "R0001"
    assert body["total_fen"] == 59900 * 2 - 10000 + 19900 == sale.total_fen
    assert body["item_count"] == 3
    assert [line["amount_fen"] for line in body["lines"]] == [109800, 19900]
    assert body["staff_no"] == cashier.staff_no
    assert body["member"] == {"id": member.pk, "card_no": member.card_no, "name": "李娜", "phone_masked": "138****5678"}
    assert sale.source == "pos" and sale.staff == cashier


def test_sale_record_without_receipt_or_time_uses_defaults(member, till):
    body = sale_body(member)
    del body["receipt_no"]
    response = post("/pos/sales", body, till[1], key="till-1-0001")
    assert response.status_code == 201
    sale = Sale.objects.get()
    assert sale.receipt_no.startswith("R-")
    assert abs(sale.sold_at - timezone.now()) < datetime.timedelta(minutes=1)


def test_sale_record_accepts_x_api_key_and_a_phone(member, till):
    response = post("/pos/sales", sale_body(member, member="13812345678"), till[1], header="x-api-key")
    assert response.status_code == 201
    assert Sale.objects.get().member == member


def test_refund_record_whole_sale(member, till):
    sale_id = post("/pos/sales", sale_body(member), till[1]).json()["id"]
    response = post(f"/pos/sales/{sale_id}/refunds", {"refund_no": "T0001", "reason": "尺码不合适"}, till[1])
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["amount_fen"] == body["sale_total_fen"] == body["refunded_total_fen"] == 129700
    assert body["sale_id"] == sale_id and body["refund_no"] == "T0001"
    assert body["member"]["card_no"] == member.card_no
    assert Refund.objects.get().amount_fen == 129700


def test_refund_record_some_lines(member, till):
    sale = post("/pos/sales", sale_body(member), till[1]).json()
    dress = sale["lines"][0]
    response = post(f"/pos/sales/{sale['id']}/refunds", {"lines": [{"sale_line_id": dress["id"], "quantity": 1}]},
                    till[1])
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["amount_fen"] == 109800 // 2
    assert body["lines"] == [{"sale_line_id": dress["id"], "quantity": 1, "amount_fen": 54900}]
    # the rest goes back with a second refund, to the fen
    rest = post(f"/pos/sales/{sale['id']}/refunds", {}, till[1]).json()
    assert rest["amount_fen"] == 129700 - 54900 and rest["refunded_total_fen"] == 129700


# --- idempotency ------------------------------------------------------------------------------------------------

def test_sale_retry_with_same_key_replays_the_response(member, till):
    first = post("/pos/sales", sale_body(member), till[1], key="sale-42")
    again = post("/pos/sales", sale_body(member), till[1], key="sale-42")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Sale.objects.count() == 1 and SaleLine.objects.count() == 2


def test_refund_retry_with_same_key_refunds_once(member, till):
    sale_id = post("/pos/sales", sale_body(member), till[1]).json()["id"]
    first = post(f"/pos/sales/{sale_id}/refunds", {}, till[1], key="refund-1")
    again = post(f"/pos/sales/{sale_id}/refunds", {}, till[1], key="refund-1")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert Refund.objects.count() == 1


def test_same_key_with_a_different_body_is_refused(member, till):
    post("/pos/sales", sale_body(member), till[1], key="sale-42")
    before = counts()
    response = post("/pos/sales", sale_body(member, receipt_no="R0002"), till[1], key="sale-42")
    assert response.status_code == 422
    assert response.json()["detail"] == "idempotency key reused with a different request"
    assert "Idempotency-Key" in response.json()["errors"]
    assert counts() == before


def test_write_without_idempotency_key_is_refused(member, till):
    before = counts()
    response = post("/pos/sales", sale_body(member), till[1], key=None)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert counts() == before


def test_refused_request_does_not_use_up_its_key(member, till):
    bad = post("/pos/sales", sale_body(member, member="80000000000"), till[1], key="sale-7")
    assert bad.status_code == 422
    good = post("/pos/sales", sale_body(member), till[1], key="sale-7")
    assert good.status_code == 201 and "Idempotent-Replayed" not in good.headers


# --- keys and stores --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw_key", [None, "vc_not-a-key"])
def test_missing_or_unknown_key_is_401(member, till, raw_key):
    response = post("/pos/sales", sale_body(member), raw_key)
    assert response.status_code == 401
    assert Sale.objects.count() == 0


def test_revoked_key_is_401(member, till):
    api_key_revoke(api_key=till[0])
    response = post("/pos/members/identify", {"identifier": member.card_no}, till[1], key=None)
    assert response.status_code == 401
    assert "API key" in response.json()["detail"]


def test_a_logged_in_staff_member_without_key_is_401(member, till, ops_manager):
    # sessions are not accepted: the POS API knows only API keys
    response = post("/pos/members/identify", {"identifier": member.card_no}, None, key=None, user=ops_manager.user)
    assert response.status_code == 401


def test_sale_for_another_store_is_403(member, till, other_store):
    response = post("/pos/sales", sale_body(member, store_code=other_store.code), till[1])
    assert response.status_code == 403
    assert "F101" in response.json()["detail"] and "C201" in response.json()["detail"]
    assert Sale.objects.count() == 0


def test_refund_of_another_stores_sale_is_403(member, till, other_store):
    sale = factories.sale(member, other_store, 30000)
    response = post(f"/pos/sales/{sale.pk}/refunds", {}, till[1])
    assert response.status_code == 403
    assert Refund.objects.count() == 0


def test_refund_of_unknown_sale_is_404(member, till):
    assert post("/pos/sales/999999/refunds", {}, till[1]).status_code == 404


# --- bad input changes nothing ----------------------------------------------------------------------------------

def _line(**fields):
    return [{"unit_price_fen": 10000, "quantity": 1, **fields}]


BAD_SALES = {
    "malformed json": ("{not json", 400, None),
    "missing lines": ({"member": "{card}"}, 422, "lines"),
    "no lines": ({"member": "{card}", "lines": []}, 422, "lines"),
    "price not a number": ({"member": "{card}", "lines": _line(unit_price_fen="abc")}, 422, "lines[0].unit_price_fen"),
    "unknown member": ({"member": "800000000001", "lines": _line()}, 422, "member"),
    "unknown staff_no": ({"member": "{card}", "staff_no": "E9999", "lines": _line()}, 422, "staff_no"),
    "negative quantity": ({"member": "{card}", "lines": _line(quantity=-1)}, 422, "lines[0].quantity"),
    "discount above price": ({"member": "{card}", "lines": _line(discount_fen=10001)}, 422, "lines[0].discount_fen"),
    "huge price": ({"member": "{card}", "lines": _line(unit_price_fen=10**20)}, 422, "lines[0].unit_price_fen"),
    "sold in the future": ({"member": "{card}", "sold_at": "2099-01-01T10:00:00+08:00", "lines": _line()}, 422,
                           "sold_at"),
    "duplicate receipt_no": ({"member": "{card}", "receipt_no": "R0001", "lines": _line()}, 422, "receipt_no"),
}


@pytest.mark.parametrize("case", BAD_SALES)
def test_bad_sale_input_is_refused_and_changes_nothing(member, till, case):
    # given a sale R0001 already recorded (with its own idempotency key)
    post("/pos/sales", sale_body(member), till[1])
    before = counts()
    body, status, field = BAD_SALES[case]
    if isinstance(body, dict):
        body = json.loads(json.dumps(body).replace("{card}", member.card_no))
    # when the bad request comes in with a fresh idempotency key
    response = post("/pos/sales", body, till[1])
    # then it gets a specific 4xx naming the field, and nothing is written
    assert response.status_code == status, response.json()
    assert response.json()["detail"]
    if field:
        assert field in response.json()["errors"], response.json()
    assert counts() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": [{"sale_line_id": 999999, "quantity": 1}]}, "lines[0].sale_line_id"),
        ({"lines": [{"sale_line_id": "{line}", "quantity": 3}]}, "lines[0].quantity"),
        ({"lines": [{"sale_line_id": "{line}", "quantity": 0}]}, "lines[0].quantity"),
        ({"lines": []}, "lines"),
    ],
)
def test_bad_refund_input_is_refused_and_changes_nothing(member, till, body, field):
    sale = post("/pos/sales", sale_body(member), till[1]).json()
    body = json.loads(json.dumps(body).replace('"{line}"', str(sale["lines"][0]["id"])))
    before = counts()
    response = post(f"/pos/sales/{sale['id']}/refunds", body, till[1])
    assert response.status_code == 422, response.json()
    assert field in response.json()["errors"]
    assert counts() == before


def test_bad_enrolment_is_refused_and_changes_nothing(db, till):
    response = post("/pos/members", {"name": "张伟", "phone": "12ab"}, till[1])
    assert response.status_code == 422
    assert "phone" in response.json()["errors"]
    assert Member.objects.count() == 0


# --- issuing keys -----------------------------------------------------------------------------------------------

def test_issueapikey_prints_a_working_key_once(member, store):
    out, err = io.StringIO(), io.StringIO()
    call_command("issueapikey", store.code, name="till 9", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    key = ApiKey.objects.get(name="till 9")
    assert key.store == store and key.key_hash == ApiKey.hash_key(raw) and raw not in err.getvalue()
    assert post("/pos/members/identify", {"identifier": member.card_no}, raw, key=None).status_code == 200


# --- concurrency ------------------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_record_one_sale(live_server, store):
    # given a till whose network drops, so it fires the same request several times at once
    member = factories.member(name="王芳", phone="13700001234")
    _key, raw = api_key_issue(store=store, name="till 1")
    body = json.dumps(sale_body(member)).encode()
    url = urllib.parse.urlsplit(live_server.url)
    answers, errors, start = [], [], threading.Barrier(6)

    def send():
        try:
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
            start.wait()
            conn.request("POST", "/api/pos/sales", body=body, headers={
                "Authorization": f"Bearer {raw}", "Idempotency-Key": "net-retry-1",
                "Content-Type": "application/json"})
            response = conn.getresponse()
            answers.append((response.status, json.loads(response.read()), response.getheader("Idempotent-Replayed")))
            conn.close()
        except Exception as exc:  # reported below: an exception in a thread would be lost
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(6)]
    # when they all arrive together
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then exactly one sale was recorded, and every request got its answer
    assert not errors
    assert Sale.objects.count() == 1 and SaleLine.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 1
    assert {status for status, _body, _replayed in answers} == {201}
    assert {body["id"] for _status, body, _replayed in answers} == {Sale.objects.get().pk}
    assert sorted(replayed or "" for *_rest, replayed in answers) == [""] + ["true"] * 5


def test_admin_action_revokes_keys(admin_client, member, till):
    response = admin_client.post("/admin/org/apikey/", {"action": "revoke", "_selected_action": [till[0].pk]})
    assert response.status_code == 302
    till[0].refresh_from_db()
    assert till[0].revoked_at is not None
    assert post("/pos/members/identify", {"identifier": member.card_no}, till[1], key=None).status_code == 401
    from vipcare.core.models import AuditLogEntry

    assert AuditLogEntry.objects.filter(action="revoke_api_key", target_id=str(till[0].pk)).count() == 1
