import pytest

from tests import factories


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
