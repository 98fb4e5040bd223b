"""The POS concurrency test sends real HTTP requests from several threads to `live_server`.

With the default in-memory SQLite test database, Django hands every server thread the *same*
connection, so concurrent requests would share one transaction and prove nothing (or break).
When these tests are collected we therefore put the SQLite test database in a temporary file,
where each server thread gets its own connection and IMMEDIATE transactions queue as in
production. PostgreSQL needs nothing.
"""

import shutil
import tempfile
from pathlib import Path

_tmp_dirs: list[str] = []


def pytest_configure(config):
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        return
    test = database.setdefault("TEST", {})
    if test.get("NAME") in (None, "", ":memory:") or "mode=memory" in str(test.get("NAME")):
        folder = tempfile.mkdtemp(prefix="vipcare-test-")  # one per run: runs in parallel don't collide
        _tmp_dirs.append(folder)
        test["NAME"] = str(Path(folder) / "test.sqlite3")


def pytest_unconfigure(config):
    for folder in _tmp_dirs:
        shutil.rmtree(folder, ignore_errors=True)
