"""SQLite, with the writers of one process queued in the process.

SQLite lets one transaction write at a time. With IMMEDIATE transactions (settings.py) a writer
that finds the database taken waits in SQLite's busy handler, which sleeps in growing steps
(1, 2, 5, 10 … 100 ms) and checks again: under a burst of tills one unlucky request can sleep for
a second while others get in ahead of it. Here a thread takes a lock of the process (one per
database file) before BEGIN IMMEDIATE and gives it back at COMMIT or ROLLBACK, so the writers of
`vipcare serve` queue in order and the one at the head starts the moment the previous commits.
Writers in other processes still meet in SQLite's busy handler, as before. Reads take no lock.
"""

import threading
from collections import defaultdict

from django.db.backends.sqlite3 import base

_writers: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
_writers_guard = threading.Lock()


def _lock_for(name: str) -> threading.Lock:
    with _writers_guard:
        return _writers[str(name)]


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_writer_lock = False

    def _start_transaction_under_autocommit(self):
        if self.transaction_mode == "IMMEDIATE" and not self.is_in_memory_db() and not self._holds_writer_lock:
            _lock_for(self.settings_dict["NAME"]).acquire()
            self._holds_writer_lock = True
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer_lock()
            raise

    def _release_writer_lock(self) -> None:
        if self._holds_writer_lock:
            self._holds_writer_lock = False
            _lock_for(self.settings_dict["NAME"]).release()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_writer_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_writer_lock()
