"""Shared by the ledger tests: time, the hypothesis profile, and the invariants to assert."""

import contextlib
import datetime

from django.db import transaction
from hypothesis import HealthCheck, settings

from vipcare.loyalty.integrity import check_ledgers

# Modest example counts: the suite runs on two shared cores. HYPOTHESIS_PROFILE=ledgers-deep for more.
settings.register_profile("ledgers", max_examples=50, deadline=None, stateful_step_count=25,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.register_profile("ledgers-deep", parent=settings.get_profile("ledgers"), max_examples=500)
LEDGER_SETTINGS = settings.get_profile("ledgers")

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
