"""Shared by the ledger tests: time, the hypothesis profile, and the invariants to assert."""

import contextlib
import datetime
import os
import random
import threading
import time

from django.db import OperationalError, connection, transaction
from hypothesis import HealthCheck, settings

from vipcare.loyalty.integrity import check_ledgers

# Modest example counts: the suite runs on two shared cores. VIPCARE_LEDGER_PROFILE=ledgers-deep for more.
settings.register_profile("ledgers", max_examples=50, deadline=None, stateful_step_count=25,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.register_profile("ledgers-deep", parent=settings.get_profile("ledgers"), max_examples=500)
LEDGER_SETTINGS = settings.get_profile(os.environ.get("VIPCARE_LEDGER_PROFILE", "ledgers"))

T0 = datetime.datetime(2026, 1, 5, 10, 0, tzinfo=datetime.UTC)


def at(days: float = 0, hours: float = 0) -> datetime.datetime:
    return T0 + datetime.timedelta(days=days, hours=hours)


def assert_ledgers_clean() -> None:
    report = check_ledgers()
    assert report.ok, "\n".join(str(v) for v in report.violations)


@contextlib.contextmanager
def rolled_back():
    """Run one hypothesis example inside a savepoint that is always rolled back, so every example
    starts from the same database without recreating it."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def run_concurrently(jobs: list, *, retries: int = 200) -> list:
    """Run each job in its own thread with its own database connection, all released at once.

    Returns each job's result or the exception it ended with. A client retries a request that met
    a busy database (SQLite's shared-cache test database answers "locked" instead of waiting), with
    the same idempotency key, as a till would.
    """
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index: int, job) -> None:
        barrier.wait()
        try:
            for attempt in range(retries):
                try:
                    results[index] = job()
                    return
                except OperationalError as error:
                    if "locked" not in str(error) or attempt == retries - 1:
                        raise
                    time.sleep(random.uniform(0.001, 0.01))
        except Exception as error:  # noqa: BLE001  (reported to the test, not lost in the thread)
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
