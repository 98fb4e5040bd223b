"""The scheduler inside `vipcare serve`: the embedded default needs no cron and no worker.

Every job is idempotent and is also a CLI command, so an operator can run it by hand, replay a
day, or move it to cron / a worker on a larger installation (`vipcare serve --no-scheduler`).
A failing job is logged and tried again at its next turn; it never stops the web server.
"""

import dataclasses
import datetime
import io
import logging
import threading
from collections.abc import Callable

from django.core.management import call_command as django_call_command
from django.db import close_old_connections
from django.utils import timezone

log = logging.getLogger("vipcare.scheduler")


def call_command(*args, **options):
    """A command's report goes to the log, not to the web server's console."""
    out = io.StringIO()
    result = django_call_command(*args, stdout=out, **options)
    if out.getvalue().strip():
        log.info("%s: %s", " ".join(args), out.getvalue().strip())
    return result


@dataclasses.dataclass
class Job:
    name: str
    run: Callable[[], object]
    every: datetime.timedelta | None = None  # run this often …
    daily_at: datetime.time | None = None  # … or once a day at this local time
    last_run: datetime.datetime | None = None

    def due(self, now: datetime.datetime) -> bool:
        if self.every is not None:
            return self.last_run is None or now - self.last_run >= self.every
        local = timezone.localtime(now)
        ran_today = self.last_run is not None and timezone.localtime(self.last_run).date() == local.date()
        return not ran_today and local.time() >= self.daily_at


def _holds_release_expired():
    # the till's holds (and their status), then any points or stored-value hold made outside the till
    return call_command("till", "release-holds", verbosity=0)


def _nightly_ledgers():
    from vipcare.loyalty.jobs import nightly

    return nightly()


def default_jobs() -> list[Job]:
    minute = datetime.timedelta(minutes=1)
    return [
        Job("release expired till holds", _holds_release_expired, every=minute),
        Job("send queued messages", lambda: call_command("care", "send", verbosity=0), every=minute),
        # thank-you messages follow the day's visits, so the day's care is regenerated often
        Job("care tasks and messages for today", lambda: call_command("care", "run", verbosity=0),
            every=15 * minute),
        Job("points expiry and level review", _nightly_ledgers, daily_at=datetime.time(2, 0)),
        Job("analytics refresh", lambda: call_command("analytics", "refresh", verbosity=0),
            daily_at=datetime.time(2, 30)),
        Job("coupons by rule", lambda: call_command("offers", "issue", verbosity=0), daily_at=datetime.time(6, 0)),
    ]


def run_due(jobs: list[Job], now: datetime.datetime | None = None) -> list[str]:
    """Run every job that is due; returns the names of those that ran."""
    now = now or timezone.now()
    ran = []
    for job in jobs:
        if not job.due(now):
            continue
        job.last_run = now
        try:
            job.run()
            ran.append(job.name)
        except Exception:
            log.exception("scheduled job %r failed; it will be tried again at its next turn", job.name)
    return ran


def start(jobs: list[Job] | None = None, *, tick_seconds: float = 20) -> threading.Event:
    """Run the jobs in a daemon thread; set the returned event to stop it."""
    jobs = default_jobs() if jobs is None else jobs
    stop = threading.Event()

    def loop():
        while not stop.wait(tick_seconds):
            run_due(jobs)
            close_old_connections()  # this thread lives long: don't keep a broken or stale connection

    threading.Thread(target=loop, name="vipcare-scheduler", daemon=True).start()
    return stop
