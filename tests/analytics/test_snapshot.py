"""The facts read in bulk (binary COPY on PostgreSQL, ADBC on SQLite files) equal those read row
by row through Django's cursor, and the refresh picks the reader the database allows."""

import sqlite3

import numpy as np
import pytest
from django.db import connection

from tests.analytics.conftest import AS_OF
from vipcare.analytics import snapshot


def _by_row(columns):
    return sorted(zip(*(column.tolist() for column in columns), strict=True))


def test_bulk_reader_returns_what_the_cursor_returns(mall, tmp_path):
    sql, params = snapshot.facts_query(as_of=AS_OF)
    expected = snapshot._read_cursor(sql, params, 4)
    assert len(expected[0]) > 1000 and (expected[3] < 0).any()  # sales and refunds
    if connection.vendor == "postgresql":
        got = snapshot._read_copy_binary(sql, params, 4)
    else:
        # The test database lives in memory, inside the test's transaction: copy the sales tables
        # to a file (from this connection, which sees the rows) for the driver's connection to read.
        path = tmp_path / "copy.sqlite3"
        with sqlite3.connect(path) as target, connection.cursor() as cursor:
            for table in ("sales_saleline", "sales_refund", "sales_refundline"):
                cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [table])
                target.execute(cursor.fetchone()[0])
                cursor.execute(f"SELECT * FROM {table}")
                rows = cursor.fetchall()
                target.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
        got = snapshot._read_adbc_sqlite(sql, params, 4, path=str(path))
    assert all(column.dtype == np.int64 for column in got)
    assert _by_row(got) == _by_row(expected)


def test_bulk_reader_refuses_nulls(db, tmp_path):
    sql = "SELECT 1, CAST(NULL AS BIGINT) UNION ALL SELECT 2, 3"
    with pytest.raises(ValueError, match="(?i)null"):
        if connection.vendor == "postgresql":
            snapshot._read_copy_binary(sql, [], 2)
        else:
            sqlite3.connect(tmp_path / "empty.sqlite3").close()
            snapshot._read_adbc_sqlite(sql, [], 2, path=str(tmp_path / "empty.sqlite3"))


def test_inside_a_transaction_the_snapshot_sees_uncommitted_rows(mall):
    # pytest-django runs this test inside a transaction: another connection would see no sales.
    assert connection.in_atomic_block
    facts = snapshot.facts_snapshot(as_of=AS_OF)
    sql, params = snapshot.facts_query(as_of=AS_OF)
    assert facts.facts.num_rows == len(snapshot._read_cursor(sql, params, 4)[0]) > 1000
