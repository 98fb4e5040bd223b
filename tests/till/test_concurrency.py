"""Many tills at once over real HTTP, on the same family cards, paying with points, stored value and
coupons, each request also retried with its key (some retries racing the original): afterwards
`check ledgers` finds nothing and every balance is exactly what the accepted checkouts leave."""

import http.client
import json
import random
import threading
import urllib.parse

import pytest
from django.core.management import call_command

from tests import factories
from vipcare.core.models import IdempotencyRecord
from vipcare.loyalty.models import PointsAccount
from vipcare.loyalty.services import points_earn
from vipcare.offers.models import Coupon, CouponRedemption, CouponTemplate
from vipcare.offers.services import coupon_issue
from vipcare.org.services import api_key_issue
from vipcare.sales.models import Sale
from vipcare.till.models import Checkout
from vipcare.wallet.models import WalletAccount
from vipcare.wallet.services import wallet_top_up

CLIENTS = 8
REQUESTS_PER_CLIENT = 6
POINTS_EACH, STORED_EACH, PRICE = 400, 3000, 10000


@pytest.mark.django_db(transaction=True)
def test_concurrent_checkouts_over_http_with_retries_are_exact(live_server):
    # given two stores' tills and three members whose cards are shared by a family
    store, other = factories.store(code="F101"), factories.store(code="C201")
    raws = [api_key_issue(store=store, name="till 1")[1], api_key_issue(store=other, name="till 2")[1]]
    members = [factories.member(name=f"家庭{i}") for i in range(3)]
    template = CouponTemplate.objects.create(code="off20", name="立减20", kind="amount_off", amount_fen=2000,
                                             valid_days=30)
    coupons = {}
    for member in members:
        points_earn(member=member, points=3000, idempotency_key="opening")
        wallet_top_up(member=member, pay_fen=20000, idempotency_key="opening", store=store)
        coupons[member.pk] = [coupon_issue(template=template, member=member, issue_key=f"c{member.pk}-{i}",
                                           source="rule").code for i in range(2)]
    # each request: a random member, points and stored value, sometimes a coupon that others want too
    rng = random.Random(7)
    plans = []
    for client in range(CLIENTS):
        for n in range(REQUESTS_PER_CLIENT):
            member = rng.choice(members)
            body = {"member": member.card_no, "points": POINTS_EACH, "stored_value_fen": STORED_EACH,
                    "lines": [{"unit_price_fen": PRICE, "quantity": 1, "category": "dress"}]}
            if rng.random() < 0.4:
                body["coupons"] = [rng.choice(coupons[member.pk])]
            plans.append((client, f"k{client}-{n}", body))
    # a few keys are sent by two clients at the same moment (a till firing twice)
    twins = [(c, key, body) for c, key, body in rng.sample(plans, 8)]
    url = urllib.parse.urlsplit(live_server.url)
    answers: dict[str, list] = {}
    errors: list = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def send(conn, raw, key, body):
        conn.request("POST", "/api/pos/till/checkouts", body=json.dumps(body).encode(), headers={
            "Authorization": f"Bearer {raw}", "Idempotency-Key": key, "Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read()), response.getheader("Idempotent-Replayed")

    def client(index):
        mine = [(key, body) for c, key, body in plans if c == index]
        mine += [(key, body) for c, key, body in twins if (c + 1) % CLIENTS == index]
        try:
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
            start.wait()
            for key, body in mine:
                for _attempt in range(2):  # the answer was lost: the till sends it again
                    result = send(conn, raws[plans_client[key] % 2], key, body)  # keys belong to a till
                    with lock:
                        answers.setdefault(key, []).append(result)
            conn.close()
        except Exception as exc:  # reported below: an exception in a thread would be lost
            errors.append(exc)

    plans_client = {key: c for c, key, _body in plans}
    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then every request got a definite answer, and every retry of a key got the same one
    assert not errors
    statuses = {status for results in answers.values() for status, _body, _replayed in results}
    assert statuses <= {201, 409, 422}, statuses
    accepted, refusals = {}, set()
    for key, results in answers.items():
        created = [body for status, body, _replayed in results if status == 201]
        if created:
            assert all(body == created[0] for body in created), key  # replays give the same answer
            assert sum(1 for s, _b, replayed in results if s == 201 and not replayed) == 1, key
            accepted[key] = created[0]
        else:
            refusals |= {body["code"] for _status, body, _replayed in results}
    # the cards run dry part-way: the tills met both kinds of refusal, and nothing else
    assert len(accepted) > 0 and "insufficient_balance" in refusals
    assert refusals <= {"insufficient_points", "insufficient_balance", "coupon_used"}, refusals
    # and the database holds exactly the accepted checkouts
    assert Checkout.objects.count() == Sale.objects.count() == len(accepted)
    assert IdempotencyRecord.objects.count() == len(accepted)
    assert sorted(Checkout.objects.values_list("pk", flat=True)) == sorted(b["id"] for b in accepted.values())
    call_command("check", "ledgers")
    for member in members:
        mine = [b for b in accepted.values() if b["sale"]["member"]["id"] == member.pk]
        points = PointsAccount.objects.get(member=member).balance
        assert points == 3000 + sum(b["points_earned"] - b["pay"]["points"] for b in mine)
        wallet = WalletAccount.objects.get(member=member)
        assert wallet.balance_fen == 20000 - sum(b["pay"]["stored_value_fen"] for b in mine)
        assert points >= 0 and wallet.principal_fen >= 0 and wallet.bonus_fen >= 0
    # a coupon was used at most once, and only by accepted checkouts
    used = [c["code"] for b in accepted.values() for c in b["coupons"]]
    assert len(used) == len(set(used)) == CouponRedemption.objects.count()
    assert set(used) == set(Coupon.objects.filter(status="redeemed").values_list("code", flat=True))
