"""The programme's configuration (policies, the level ladder, earning rules, member days), kept
in the process between requests.

Every checkout reads it (pricing, paying, earning, the level): eight small queries that cost about
a tenth of a checkout through the ORM. `@shared` keeps an answer in the process for at most
`SHARED_SECONDS`, and forgets everything at once when a configuration row is saved or deleted in
this process (signals, connected in the apps' `ready`) or the tables are flushed. An edit made in
another process (a second server, the command line) is seen here within `SHARED_SECONDS`.

A transaction that writes configuration does not use the shared answers until it ends (it must see
its own writes; other threads must not see them before they are committed), and when it commits
everything is forgotten again.
"""

import functools
import threading
import time

from django.db import connection, transaction

from vipcare.core.memo import memoized

SHARED_SECONDS = 1.0
MAX_ENTRIES = 256

_answers: dict[tuple, tuple[float, object]] = {}
_generation = 0
_lock = threading.Lock()
_local = threading.local()  # .writing: the outermost atomic block of this thread's transaction that wrote


def forget(**_signal) -> None:
    """Drop every shared answer (a signal receiver: configuration was saved, deleted or flushed)."""
    global _generation
    if connection.in_atomic_block and connection.atomic_blocks:
        _local.writing = connection.atomic_blocks[0]
        transaction.on_commit(forget)  # and again once the others can see it
    with _lock:
        _generation += 1
        _answers.clear()


def _may_share() -> bool:
    writing = getattr(_local, "writing", None)
    if writing is None:
        return True
    if connection.in_atomic_block and connection.atomic_blocks and connection.atomic_blocks[0] is writing:
        return False  # this transaction wrote configuration: read it from the database
    _local.writing = None  # that transaction has ended, committed or rolled back
    return True


def shared(function):
    """Like `memoized` (once per unit of work), and kept in the process (see the module)."""

    @functools.wraps(function)
    def wrapper(*args):
        if not _may_share():
            return function(*args)
        key = (function, args)
        now = time.monotonic()
        found = _answers.get(key)
        if found is not None and found[0] > now:
            return found[1]
        generation = _generation
        value = function(*args)
        with _lock:
            if generation == _generation and _may_share():  # nothing changed while it was read
                if len(_answers) >= MAX_ENTRIES:
                    _answers.clear()
                _answers[key] = (now + SHARED_SECONDS, value)
        return value

    return memoized(wrapper)


def connect(*models) -> None:
    """Forget the shared answers whenever a row of these models is saved or deleted, or the
    database is flushed (tests) or migrated."""
    from django.db.models.signals import post_delete, post_migrate, post_save

    for model in models:
        post_save.connect(forget, sender=model, dispatch_uid=f"configuration-save-{model._meta.label}")
        post_delete.connect(forget, sender=model, dispatch_uid=f"configuration-delete-{model._meta.label}")
    post_migrate.connect(forget, dispatch_uid="configuration-migrate")
