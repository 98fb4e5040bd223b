import datetime

import pytest
from django.db import connection

from tests import factories
from vipcare.core import crypto
from vipcare.members.models import Member

PHONE = "13912348765"
EMAIL = "wang.fang@example.cn"
ADDRESS = "杭州市西湖区文三路478号华星时代广场"
ID_NUMBER = "330106198803081234"


def _all_database_text() -> str:
    """Every value of every table, as text: what someone holding a copy of the database sees."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


@pytest.fixture
def member_with_personal_data(store):
    return factories.member(name="王芳", phone=PHONE, email=EMAIL, address=ADDRESS, id_number=ID_NUMBER,
                            birthday=datetime.date(1988, 3, 8), home_store=store)


def test_personal_data_is_not_readable_in_any_table(member_with_personal_data):
    text = _all_database_text()
    for secret in (PHONE, PHONE[-8:], EMAIL, "wang.fang", ADDRESS, "文三路", ID_NUMBER, "1988-03-08"):
        assert secret not in text
    assert "王芳" in text  # the name is kept in clear, so the check above really looked at the rows


def test_phone_number_cannot_be_found_in_the_sqlite_file(transactional_db, tmp_path, store):
    if connection.vendor != "sqlite":
        pytest.skip("the database file check is for the embedded SQLite database")
    factories.member(name="王芳", phone=PHONE, email=EMAIL, address=ADDRESS, home_store=store)
    copy = tmp_path / "copy.sqlite3"
    with connection.cursor() as cursor:
        cursor.execute("VACUUM INTO %s", [str(copy)])
    data = copy.read_bytes()
    assert "王芳".encode() in data
    for secret in (PHONE, EMAIL, ADDRESS):
        assert secret.encode() not in data


def test_same_phone_encrypts_differently_but_indexes_the_same(store):
    a = factories.member(name="甲", phone=PHONE)
    b = factories.member(name="乙", phone=PHONE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, phone_index FROM members_member WHERE id IN (%s, %s)", [a.pk, b.pk])
        (phone_a, index_a), (phone_b, index_b) = cursor.fetchall()
    assert phone_a != phone_b  # random IV: equal values do not show as equal
    assert index_a == index_b == crypto.phone_index(PHONE)
    assert Member.objects.get(pk=a.pk).phone == PHONE


def test_data_encrypted_with_another_key_fails_loudly(settings, member_with_personal_data):
    crypto._fernet.cache_clear()
    settings.VIPCARE_DATA_KEYS = ["x" * 43 + "="]
    try:
        with pytest.raises(ValueError, match="VIPCARE_DATA_KEY"):
            Member.objects.get(pk=member_with_personal_data.pk)
    finally:
        crypto._fernet.cache_clear()


def test_rotated_keys_still_read_old_data(settings, member_with_personal_data):
    from cryptography.fernet import Fernet

    old_keys = list(settings.VIPCARE_DATA_KEYS)
    crypto._fernet.cache_clear()
    settings.VIPCARE_DATA_KEYS = [Fernet.generate_key().decode(), *old_keys]  # a new key first
    try:
        assert Member.objects.get(pk=member_with_personal_data.pk).phone == PHONE
    finally:
        crypto._fernet.cache_clear()


@pytest.mark.parametrize(
    "raw, expected",
    [("138 1234 5678", "13812345678"), ("+86-138-1234-5678", "13812345678"), ("008613812345678", "13812345678"),
     ("021-6234 5678", "02162345678")],
)
def test_normalise_phone(raw, expected):
    assert crypto.normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["", "abc", "12345", "1" * 16])
def test_normalise_phone_rejects_what_is_no_phone(raw):
    with pytest.raises(ValueError):
        crypto.normalise_phone(raw)
