"""Shared fixtures.

The SQLite test database lives in a temporary file, not in memory: with an in-memory database
Django hands every live-server thread the same connection, so concurrent requests (POS retries,
the browser tests) would share one transaction and prove nothing. In a file each thread gets its
own connection and IMMEDIATE transactions queue as in production. PostgreSQL needs nothing.
"""

import shutil
import tempfile
from pathlib import Path

import pytest

from tests import factories

_tmp_dirs: list[str] = []


def pytest_configure(config):
    from django.conf import settings

    database = settings.DATABASES["default"]
    if not database["ENGINE"].endswith("sqlite3"):  # Django's backend or vipcare.core.sqlite3
        return
    test = database.setdefault("TEST", {})
    if test.get("NAME") in (None, "", ":memory:") or "mode=memory" in str(test.get("NAME")):
        folder = tempfile.mkdtemp(prefix="vipcare-test-")  # one per run: runs in parallel don't collide
        _tmp_dirs.append(folder)
        test["NAME"] = str(Path(folder) / "test.sqlite3")


def pytest_unconfigure(config):
    for folder in _tmp_dirs:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def store(db):
    return factories.store(code="F101", name="衣恋", brand="E·LAND", category="fashion", floor="1F")


@pytest.fixture
def other_store(db):
    return factories.store(code="C201", name="兰蔻专柜", brand="Lancôme", category="cosmetics", floor="2F")


@pytest.fixture
def ops_manager(db):
    return factories.staff(role="operations_manager", username="ops", name="周经理")


@pytest.fixture
def account_manager(db, store):
    return factories.staff(role="account_manager", stores=[store], username="guide", name="王导购")


@pytest.fixture
def store_manager(db, store):
    return factories.staff(role="store_manager", stores=[store], username="manager", name="陈店长")


@pytest.fixture
def cashier(db, store):
    return factories.staff(role="cashier", stores=[store], username="cashier", name="赵收银")


@pytest.fixture
def member(db, store):
    return factories.member(name="李娜", phone="13812345678", home_store=store, gender="F",
                            email="lina@example.com", address="上海市浦东新区世纪大道100号")


@pytest.fixture
def client_en(client):
    """The test client with the English interface chosen (the language cookie)."""
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def plan(db):
    """The top-up plan of the documents: pay ¥100, get ¥180."""
    from vipcare.wallet.models import TopUpPlan

    return TopUpPlan.objects.create(name="充100送80", pay_fen=10000, bonus_fen=8000)
