"""The analytics refresh: the only code that writes analytics rows."""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import time

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from vipcare.analytics import engines, pipeline, snapshot
from vipcare.analytics.choices import RefreshStatus
from vipcare.analytics.models import AnalyticsRefresh, MemberAnalytics
from vipcare.analytics.segments import SegmentRules

_INSERT_BATCH = 50_000
# Model columns filled from pipeline.Results; -1 / NaN there mean "no value" (NULL).
_NULLABLE = {"recency_days", "tenure_days", "p_alive", "expected_90", "expected_365", "expected_spend_fen",
             "clv_fen"}


class RefreshError(ValueError):
    """Bad input to a refresh (unknown engine, date in the future, engine not installed)."""


def _column_values(name: str, values: np.ndarray) -> list:
    if name in _NULLABLE:
        missing = np.isnan(values) if values.dtype.kind == "f" else values < 0  # NaN / -1 -> NULL
        if missing.any():
            values = values.astype(object)
            values[missing] = None
    return values.tolist()


def _insert_rows(refresh: AnalyticsRefresh, results: pipeline.Results) -> None:
    """Rows in large batches, each its own short transaction so that other writers are not held up
    for the whole refresh (the rows are invisible until published). PostgreSQL takes them by COPY."""
    names = list(results.columns)
    table = MemberAnalytics._meta.db_table
    columns = ", ".join(["refresh_id"] + names)
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(
                f"COPY {table} ({columns}) FROM STDIN") as copy:
            for start in range(0, results.size, _INSERT_BATCH):
                lists = [_column_values(name, results.columns[name][start:start + _INSERT_BATCH]) for name in names]
                for row in zip(itertools.repeat(refresh.pk), *lists):
                    copy.write_row(row)
        return
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * (len(names) + 1))})"
    for start in range(0, results.size, _INSERT_BATCH):
        lists = [_column_values(name, results.columns[name][start:start + _INSERT_BATCH]) for name in names]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, list(zip(itertools.repeat(refresh.pk), *lists)))


@transaction.atomic
def _publish(refresh: AnalyticsRefresh) -> None:
    """Replace an earlier refresh of the same day and move the "current" pointer, in one transaction."""
    AnalyticsRefresh.objects.filter(as_of=refresh.as_of).exclude(pk=refresh.pk).delete()
    refresh.status = RefreshStatus.DONE
    refresh.finished_at = timezone.now()
    refresh.save(update_fields=["status", "finished_at", "timings"])
    newest = AnalyticsRefresh.objects.filter(status=RefreshStatus.DONE).order_by("-as_of", "-pk").first()
    AnalyticsRefresh.objects.filter(is_current=True).exclude(pk=newest.pk).update(is_current=False)
    AnalyticsRefresh.objects.filter(pk=newest.pk).update(is_current=True)
    refresh.is_current = refresh.pk == newest.pk


def analytics_refresh(*, as_of: datetime.date | None = None, engine: str = "duckdb",
                      rules: SegmentRules | None = None) -> AnalyticsRefresh:
    """Compute every member's features, scores and labels as of a day and publish them.

    Idempotent: a second refresh of the same day replaces the first. Atomic for readers: rows are
    written under a refresh that is not yet done; `_publish` switches to it in one transaction.
    """
    today = timezone.localdate()
    as_of = as_of or today
    if as_of > today:
        raise RefreshError(f"as-of date {as_of} is in the future")
    if engine not in engines.ENGINES:
        raise RefreshError(f"unknown engine {engine!r}: choose one of {', '.join(engines.ENGINES)}")
    if engine == "spark":
        try:
            import pyspark  # noqa: F401
        except ImportError as exc:
            raise RefreshError("the Spark engine needs the 'spark' extra (pip install 'vipcare[spark]')") from exc
    rules = rules or SegmentRules.from_settings()
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    facts = snapshot.facts_snapshot(as_of=as_of)
    timings["snapshot"] = round(time.perf_counter() - clock, 3)
    clock = time.perf_counter()
    features = engines.ENGINES[engine](facts.facts, as_of_day=facts.as_of_day, window=rules.falling_window_days)
    timings["features"] = round(time.perf_counter() - clock, 3)
    clock = time.perf_counter()
    results = pipeline.member_results(features, member_ids=facts.member_ids, enrolled_day=facts.enrolled_day,
                                      as_of_day=facts.as_of_day, rules=rules)
    timings["models"] = round(time.perf_counter() - clock, 3)
    clock = time.perf_counter()

    # Rows left by a refresh of this day that died half-way are never shown; drop them.
    AnalyticsRefresh.objects.filter(as_of=as_of, status=RefreshStatus.BUILDING).delete()
    refresh = AnalyticsRefresh.objects.create(
        as_of=as_of, engine=engine, member_count=results.size, fact_count=facts.facts.num_rows,
        parameters=results.parameters, rules=dataclasses.asdict(rules),
    )
    _insert_rows(refresh, results)
    timings["store"] = round(time.perf_counter() - clock, 3)
    refresh.timings = timings
    _publish(refresh)
    return refresh
