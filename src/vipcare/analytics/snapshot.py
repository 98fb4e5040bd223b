"""The sales facts as of a date, read from the database into Arrow.

One row per sale line (amount > 0) and per refund line (negative amount, on the day of the sale
it reverses), with the member, the store and the local day number (days since 1970-01-01 in the
deployment's time zone). Nothing sold or refunded after the as-of day counts.

The database computes epoch seconds, so only integers travel, and they travel in bulk (ADR 0005):
- PostgreSQL: a binary COPY on Django's own connection, decoded by numpy;
- SQLite: the ADBC driver reads the database file straight into Arrow; inside a transaction, or
  on an in-memory database, only Django's connection sees the rows, so there the facts come
  through its cursor in batches of plain integers (no Python datetime per row).
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import pathlib
import re
import sqlite3

import numpy as np
import pyarrow as pa
from django.db import connection
from django.utils import timezone

from vipcare.members.choices import MemberStatus

FACT_SCHEMA = pa.schema([("member_id", pa.int64()), ("store_id", pa.int64()), ("day", pa.int32()),
                         ("amount_fen", pa.int64())])
_BATCH = 100_000
EPOCH = datetime.date(1970, 1, 1)


@dataclasses.dataclass
class Snapshot:
    as_of: datetime.date
    as_of_day: int
    facts: pa.Table  # FACT_SCHEMA
    member_ids: np.ndarray  # active members enrolled by the as-of day, sorted
    enrolled_day: np.ndarray  # local day of enrolment, aligned with member_ids


def day_number(date: datetime.date) -> int:
    return (date - EPOCH).days


def _cutoff(as_of: datetime.date) -> tuple[datetime.datetime, int]:
    """The first instant after the as-of day, and the zone's UTC offset then (in seconds)."""
    zone = timezone.get_default_timezone()
    end = timezone.make_aware(datetime.datetime.combine(as_of + datetime.timedelta(days=1), datetime.time()), zone)
    return end, int(end.utcoffset().total_seconds())


def _epoch_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"
    if sqlite3.sqlite_version_info >= (3, 38):
        return f"unixepoch({column})"  # twice as fast as strftime('%%s', ...)
    return f"CAST(strftime('%%s', {column}) AS INTEGER)"


def _read_columns(sql: str, params: list, width: int) -> list[np.ndarray]:
    """Run a query of `width` non-null integer columns; the columns as int64 arrays."""
    if connection.vendor == "postgresql":
        return _read_copy_binary(sql, params, width)
    if connection.vendor == "sqlite" and not connection.in_atomic_block and not connection.is_in_memory_db():
        return _read_adbc_sqlite(sql, params, width)
    return _read_cursor(sql, params, width)


def _read_adbc_sqlite(sql: str, params: list, width: int, path: str | None = None) -> list[np.ndarray]:
    """The committed rows, read by the ADBC SQLite driver on its own read-only connection."""
    import adbc_driver_sqlite.dbapi

    uri = pathlib.Path(path or connection.settings_dict["NAME"]).resolve().as_uri() + "?mode=ro"
    with adbc_driver_sqlite.dbapi.connect(uri) as adbc, adbc.cursor() as cursor:
        # Django's placeholders (%s, and %% for a percent sign) in the driver's (?) style.
        cursor.execute(re.sub(r"%([%s])", lambda m: "%" if m[1] == "%" else "?", sql), parameters=params)
        table = cursor.fetch_arrow_table()
    if table.num_columns != width:
        raise ValueError(f"expected {width} columns, got {table.num_columns}")
    return [_int64(column) for column in table.columns]


def _int64(column: pa.ChunkedArray) -> np.ndarray:
    if column.null_count:
        raise ValueError("the facts query returned NULLs")
    return column.cast(pa.int64()).to_numpy()


# PostgreSQL's binary COPY: a 19-byte header, per row a 16-bit field count and per field a 32-bit
# length and the value (8 bytes for a bigint), then a 16-bit -1. All big-endian.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00"
_COPY_CHUNK = 64 << 20


def _read_copy_binary(sql: str, params: list, width: int) -> list[np.ndarray]:
    """The rows through a binary COPY on Django's connection (same transaction), decoded by numpy:
    every value is a non-null bigint, so every row has the same 2 + 12·width bytes."""
    row = np.dtype([("fields", ">i2")] + [item for i in range(width) for item in
                                          ((f"length{i}", ">i4"), (f"value{i}", ">i8"))])
    chunks: list[np.ndarray] = []
    pending = bytearray()
    header = True

    def decode(final: bool) -> None:
        nonlocal pending
        whole = (len(pending) - (2 if final else 0)) // row.itemsize * row.itemsize
        rows = np.frombuffer(bytes(pending[:whole]), dtype=row)
        if np.any(rows["fields"] != width) or any(np.any(rows[f"length{i}"] != 8) for i in range(width)):
            raise ValueError("the facts query must return non-null bigints only")
        chunks.append(np.stack([rows[f"value{i}"].astype(np.int64) for i in range(width)], axis=1))
        pending = pending[whole:]

    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY ({sql}) TO STDOUT (FORMAT BINARY)", params) as copy:
        for data in copy:
            pending += data
            if header and len(pending) >= 19:
                if not pending.startswith(_COPY_HEADER):
                    raise ValueError("not a PostgreSQL binary COPY stream")
                extension = int.from_bytes(pending[15:19], "big")
                pending = pending[19 + extension:]
                header = False
            if not header and len(pending) >= _COPY_CHUNK:
                decode(final=False)
    decode(final=True)
    if bytes(pending) != b"\xff\xff":
        raise ValueError("the binary COPY stream did not end where expected")
    data = np.concatenate(chunks) if chunks else np.zeros((0, width), dtype=np.int64)
    return [np.ascontiguousarray(data[:, i]) for i in range(width)]


def _read_cursor(sql: str, params: list, width: int) -> list[np.ndarray]:
    chunks: list[np.ndarray] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(_BATCH):
            flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64, count=len(rows) * width)
            chunks.append(flat.reshape(-1, width))
    data = np.concatenate(chunks) if chunks else np.zeros((0, width), dtype=np.int64)
    return [np.ascontiguousarray(data[:, i]) for i in range(width)]


def facts_query(*, as_of: datetime.date) -> tuple[str, list]:
    """SQL and parameters of the facts: member, store, epoch seconds of the sale, amount."""
    cutoff = connection.ops.adapt_datetimefield_value(_cutoff(as_of)[0])
    sold = _epoch_sql("l.sold_at")
    sql = (
        f"SELECT l.member_id, l.store_id, {sold}, l.amount_fen FROM sales_saleline l WHERE l.sold_at < %s "
        f"UNION ALL "
        f"SELECT l.member_id, l.store_id, {sold}, -rl.amount_fen FROM sales_refundline rl "
        f"JOIN sales_refund r ON r.id = rl.refund_id JOIN sales_saleline l ON l.id = rl.sale_line_id "
        f"WHERE r.refunded_at < %s AND l.sold_at < %s"
    )
    return sql, [cutoff, cutoff, cutoff]


def facts_snapshot(*, as_of: datetime.date) -> Snapshot:
    _end, offset = _cutoff(as_of)
    member_id, store_id, seconds, amount = _read_columns(*facts_query(as_of=as_of), 4)
    facts = pa.table({
        "member_id": member_id, "store_id": store_id,
        "day": ((seconds + offset) // 86400).astype(np.int32), "amount_fen": amount,
    }, schema=FACT_SCHEMA)
    enrolled = _epoch_sql("enrolled_at")
    ids, enrolled_seconds = _read_columns(
        f"SELECT id, {enrolled} FROM members_member WHERE status = %s ORDER BY id", [MemberStatus.ACTIVE], 2)
    enrolled_day = (enrolled_seconds + offset) // 86400
    # Members enrolled by the day, and those whose (imported) purchases go back before their enrolment.
    keep = enrolled_day <= day_number(as_of)
    keep[~keep] = np.isin(ids[~keep], member_id, kind="table") if member_id.size else False
    return Snapshot(as_of=as_of, as_of_day=day_number(as_of), facts=facts, member_ids=ids[keep],
                    enrolled_day=np.minimum(enrolled_day[keep], day_number(as_of)).astype(np.int64))
