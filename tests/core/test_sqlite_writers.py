"""SQLite: the writers of one process queue in the process (vipcare.core.sqlite3) and the queue is
given back whatever way a transaction ends."""

import threading
import time

import pytest
from django.db import connection, transaction

from vipcare.core.models import AuditLogEntry

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")


def _in_thread(target) -> list:
    outcome: list = []

    def run():
        try:
            outcome.append(target())
        except Exception as error:  # noqa: BLE001  (reported to the test)
            outcome.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "a writer was left waiting: the queue was not given back"
    return outcome


@pytest.mark.django_db(transaction=True)
def test_queue_is_given_back_after_commit_rollback_and_errors():
    def commit():
        with transaction.atomic():
            AuditLogEntry.objects.create(action="export")
        return "committed"

    def fail():
        with transaction.atomic():
            AuditLogEntry.objects.create(action="export")
            raise ValueError("refused")

    assert _in_thread(commit) == ["committed"]
    assert isinstance(_in_thread(fail)[0], ValueError)
    assert _in_thread(commit) == ["committed"]  # would hang if the failed one kept the queue
    assert AuditLogEntry.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_queue_instead_of_sleeping_in_sqlite():
    # given 8 threads writing 15 short transactions each at once
    waits: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def writer():
        start.wait()
        for _ in range(15):
            began = time.perf_counter()
            with transaction.atomic():
                AuditLogEntry.objects.create(action="export")
            with lock:
                waits.append(time.perf_counter() - began)
        connection.close()

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then all of them were written, none waited anywhere near SQLite's busy-handler sleeps
    assert AuditLogEntry.objects.count() == 120
    assert max(waits) < 2.0, max(waits)
