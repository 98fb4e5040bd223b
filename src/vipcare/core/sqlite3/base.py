"""SQLite, with its writers queued: in the process, and between the processes serving one file.

SQLite lets one transaction write at a time. With IMMEDIATE transactions (settings.py) a writer
that finds the database taken waits in SQLite's busy handler, which sleeps in growing steps
(1, 2, 5, 10 … 100 ms) and checks again: under a burst of tills one unlucky request can sleep for
a second while others get in ahead of it. Here a thread takes the writer lock of the database
before BEGIN IMMEDIATE and gives it back at COMMIT or ROLLBACK, so writers start the moment the
previous one commits:

- in the process, a thread lock (one per database file): the threads of `vipcare serve` queue in
  order;
- between processes, an exclusive `flock` on `<database>-writer` beside the file, held by the
  thread that holds the thread lock: several `vipcare serve` processes on one file (one per core)
  wait in the kernel, which wakes the next one at once, instead of in the busy handler's sleeps.

Writers that do not come through here (the sqlite3 shell, another program) still meet ours in the
busy handler, as before. Reads take no lock. Without `fcntl` (Windows) only the thread lock is used.
"""

import os
import threading

from django.db.backends.sqlite3 import base

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None


class _Writer:
    """The writer lock of one database file in this process."""

    def __init__(self, name: str) -> None:
        self.threads = threading.Lock()
        self.path = f"{name}-writer"
        self.fd: int | None = None
        self.pid = 0

    def acquire(self) -> None:
        self.threads.acquire()
        if fcntl is None:
            return
        try:
            if self.fd is None or self.pid != os.getpid():  # opened once per process (not inherited by a fork)
                self.fd, self.pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
            fcntl.flock(self.fd, fcntl.LOCK_EX)  # waits without holding the GIL
        except BaseException:
            self.threads.release()
            raise

    def release(self) -> None:
        try:
            if fcntl is not None and self.fd is not None:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.threads.release()


_writers: dict[str, _Writer] = {}
_writers_guard = threading.Lock()


def _writer_for(name: str) -> _Writer:
    with _writers_guard:
        name = str(name)
        if name not in _writers:
            _writers[name] = _Writer(name)
        return _writers[name]


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_writer_lock = False

    def _start_transaction_under_autocommit(self):
        if self.transaction_mode == "IMMEDIATE" and not self.is_in_memory_db() and not self._holds_writer_lock:
            _writer_for(self.settings_dict["NAME"]).acquire()
            self._holds_writer_lock = True
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer_lock()
            raise

    def _release_writer_lock(self) -> None:
        if self._holds_writer_lock:
            self._holds_writer_lock = False
            _writer_for(self.settings_dict["NAME"]).release()

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
