"""The sales facts as of a date, read from the database into Arrow.

One row per sale line (amount > 0) and per refund line (negative amount, on the day of the sale
it reverses), with the member, the store and the local day number (days since 1970-01-01 in the
deployment's time zone). Nothing sold or refunded after the as-of day counts.

Read through Django's connection (so the snapshot sees the same transaction as the caller) in
batches of plain integers: no Python datetime per row.
"""

from __future__ import annotations

import dataclasses
import datetime

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
    return f"CAST(strftime('%%s', {column}) AS INTEGER)"


def _fetch_columns(sql: str, params: list, width: int) -> list[np.ndarray]:
    chunks: list[np.ndarray] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(_BATCH):
            chunks.append(np.array(rows, dtype=np.int64).reshape(-1, width))
    data = np.concatenate(chunks) if chunks else np.zeros((0, width), dtype=np.int64)
    return [data[:, i] for i in range(width)]


def facts_snapshot(*, as_of: datetime.date) -> Snapshot:
    end, offset = _cutoff(as_of)
    cutoff = connection.ops.adapt_datetimefield_value(end)
    sold = _epoch_sql("l.sold_at")
    sql = (
        f"SELECT l.member_id, l.store_id, {sold}, l.amount_fen FROM sales_saleline l WHERE l.sold_at < %s "
        f"UNION ALL "
        f"SELECT l.member_id, l.store_id, {sold}, -rl.amount_fen FROM sales_refundline rl "
        f"JOIN sales_refund r ON r.id = rl.refund_id JOIN sales_saleline l ON l.id = rl.sale_line_id "
        f"WHERE r.refunded_at < %s AND l.sold_at < %s"
    )
    member_id, store_id, seconds, amount = _fetch_columns(sql, [cutoff, cutoff, cutoff], 4)
    facts = pa.table({
        "member_id": member_id, "store_id": store_id,
        "day": ((seconds + offset) // 86400).astype(np.int32), "amount_fen": amount,
    }, schema=FACT_SCHEMA)
    enrolled = _epoch_sql("enrolled_at")
    ids, enrolled_seconds = _fetch_columns(
        f"SELECT id, {enrolled} FROM members_member WHERE status = %s ORDER BY id", [MemberStatus.ACTIVE], 2)
    enrolled_day = (enrolled_seconds + offset) // 86400
    # Members enrolled by the day, and those whose (imported) purchases go back before their enrolment.
    keep = (enrolled_day <= day_number(as_of)) | np.isin(ids, member_id)
    return Snapshot(as_of=as_of, as_of_day=day_number(as_of), facts=facts, member_ids=ids[keep],
                    enrolled_day=np.minimum(enrolled_day[keep], day_number(as_of)).astype(np.int64))
