"""Generate the demo: the mall, its staff, members and their purchases, written in bulk.

The ORM would need hours for a million members and twenty million sale lines, so chunks of rows
are built in memory (vipcare.demo.members) and written with `executemany`, one transaction per
chunk. The generator owns the database while it runs, so it assigns the ids itself.
"""

import contextlib
import dataclasses
import datetime
import multiprocessing
import time
from collections.abc import Callable

from django.core.management.color import no_style
from django.db import connection, connections, transaction
from django.db.models import Max

from vipcare.demo.members import (
    LINE_COLUMNS,
    MEMBER_COLUMNS,
    REFUND_COLUMNS,
    REFUND_LINE_COLUMNS,
    SALE_COLUMNS,
    Builder,
    Chunk,
    Plan,
)
from vipcare.demo.organisation import build_mall
from vipcare.members.models import Member, MemberFieldDefinition
from vipcare.sales.models import Refund, RefundLine, Sale, SaleLine


@dataclasses.dataclass
class Result:
    members: int = 0
    sales: int = 0
    lines: int = 0
    refunds: int = 0
    spend_fen: int = 0
    seconds: float = 0.0


_builder: Builder | None = None  # the worker processes inherit it when they are forked


def _build(index: int) -> Chunk:
    return _builder.build(index)


def _insert_sql(model, columns: list[str], offsets: dict[str, int]) -> str:
    """INSERT for `columns`; a column in `offsets` gets that number added to its chunk-local value."""
    qn = connection.ops.quote_name
    values = ", ".join(f"%s + {offsets[c]}" if c in offsets else "%s" for c in columns)
    return f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(c) for c in columns)}) VALUES ({values})"


def _next_id(model) -> int:
    return (model.objects.aggregate(m=Max("id"))["m"] or 0) + 1


def _datetime_adapter() -> Callable[[datetime.datetime], object]:
    """The column value Django writes for a naive-UTC datetime (a hot path: millions of calls)."""
    if connection.vendor == "sqlite":
        return str  # what DatabaseOperations.adapt_datetimefield_value returns for UTC on SQLite
    adapt = connection.ops.adapt_datetimefield_value
    return lambda value: adapt(value.replace(tzinfo=datetime.UTC))


BULK_MODELS = [Member, Sale, SaleLine, Refund, RefundLine]


def _secondary_indexes() -> list[tuple[str, str]]:
    """(name, CREATE statement) of the indexes on the bulk tables that no constraint or key needs."""
    tables = [m._meta.db_table for m in BULK_MODELS]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":  # autoindexes of primary keys and inline UNIQUE have no sql
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                           f"AND tbl_name IN ({', '.join(['%s'] * len(tables))})", tables)
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname NOT IN "
                           "(SELECT conname FROM pg_constraint)", [tables])
        else:
            return []
        return cursor.fetchall()


@contextlib.contextmanager
def _indexes_deferred(enabled: bool):
    """Drop the secondary indexes for a big load and build them once at the end.

    Keeping seven indexes up to date row by row (the receipt-number one in random order) costs more
    than sorting each once; a unique index that is rebuilt still checks its rows.
    """
    indexes = _secondary_indexes() if enabled else []
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for name, _sql in indexes:
            cursor.execute(f"DROP INDEX {qn(name)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if indexes and connection.vendor == "postgresql":
                # inside an outer transaction, deferred foreign-key checks must run before CREATE INDEX
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for _name, sql in indexes:
                cursor.execute(sql)


def generate(*, members: int, years: int, seed: int, as_of: datetime.date, workers: int = 1,
             chunk_size: int = 10_000, progress: Callable[[Result], None] | None = None,
             defer_indexes: bool | None = None) -> Result:
    """Generate the demo into the database. `defer_indexes` (default: for 50,000 members or more,
    when no member exists yet) drops the secondary indexes of the bulk tables during the load."""
    global _builder
    started = time.perf_counter()
    mall = build_mall(seed=seed)
    extra_keys = list(MemberFieldDefinition.objects.filter(counts_for_completeness=True).values_list("key", flat=True))
    plan = Plan(members=members, years=years, seed=seed, as_of=as_of, chunk_size=chunk_size, extra_keys=extra_keys)
    _builder = Builder(plan, mall, to_db=_datetime_adapter(), member_id_base=_next_id(Member) - 1,
                       extra_json=Member._meta.get_field("extra").get_db_prep_save({}, connection))
    next_ids = {"sale": _next_id(Sale), "line": _next_id(SaleLine), "refund": _next_id(Refund),
                "refund_line": _next_id(RefundLine)}
    if defer_indexes is None:
        defer_indexes = members >= 50_000 and not Member.objects.exists()
    with _indexes_deferred(defer_indexes):
        result = _generate_chunks(plan, next_ids, workers, progress, started)
    with connection.cursor() as cursor:  # PostgreSQL's id sequences must continue after our ids
        for sql in connection.ops.sequence_reset_sql(no_style(), BULK_MODELS):
            cursor.execute(sql)
    result.seconds = time.perf_counter() - started
    return result


def _generate_chunks(plan: Plan, next_ids: dict[str, int], workers: int, progress, started: float) -> Result:
    global _builder
    result = Result()
    pool = None
    if workers > 1:
        connections.close_all()  # forked children must not share the parent's database connection
        pool = multiprocessing.get_context("fork").Pool(workers)
        chunks = pool.imap(_build, range(plan.chunks))
    else:
        chunks = map(_build, range(plan.chunks))
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        with connection.cursor() as cursor:  # a crash mid-way leaves a half demo to delete anyway
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-262144")
    try:
        for chunk in chunks:
            _write(chunk, next_ids)
            result.members += len(chunk.members)
            result.sales += len(chunk.sales)
            result.lines += len(chunk.lines)
            result.refunds += len(chunk.refunds)
            result.spend_fen += chunk.spend_fen
            if progress:
                result.seconds = time.perf_counter() - started
                progress(result)
    finally:
        if pool:
            pool.terminate()
        _builder = None
    return result


def _write(chunk: Chunk, next_ids: dict[str, int]) -> None:
    sale, line, refund, refund_line = (next_ids[k] for k in ("sale", "line", "refund", "refund_line"))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(_insert_sql(Member, MEMBER_COLUMNS, {}), chunk.members)
        if chunk.sales:
            cursor.executemany(_insert_sql(Sale, SALE_COLUMNS, {"id": sale}), chunk.sales)
            cursor.executemany(_insert_sql(SaleLine, LINE_COLUMNS, {"id": line, "sale_id": sale}), chunk.lines)
        if chunk.refunds:
            cursor.executemany(_insert_sql(Refund, REFUND_COLUMNS, {"id": refund, "sale_id": sale}), chunk.refunds)
            offsets = {"id": refund_line, "refund_id": refund, "sale_line_id": line}
            cursor.executemany(_insert_sql(RefundLine, REFUND_LINE_COLUMNS, offsets), chunk.refund_lines)
    next_ids["sale"] += len(chunk.sales)
    next_ids["line"] += len(chunk.lines)
    next_ids["refund"] += len(chunk.refunds)
    next_ids["refund_line"] += len(chunk.refund_lines)
