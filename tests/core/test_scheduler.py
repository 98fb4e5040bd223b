import datetime
import zoneinfo

from vipcare.core.scheduler import Job, default_jobs, run_due

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(hour, minute=0, day=23):
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def test_interval_job_runs_again_only_after_its_interval():
    calls = []
    job = Job("tick", lambda: calls.append(1), every=datetime.timedelta(minutes=1))
    assert run_due([job], at(10, 0)) == ["tick"]
    assert run_due([job], at(10, 0) + datetime.timedelta(seconds=30)) == []
    assert run_due([job], at(10, 1)) == ["tick"]
    assert len(calls) == 2


def test_daily_job_runs_once_a_day_after_its_time(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    calls = []
    job = Job("nightly", lambda: calls.append(1), daily_at=datetime.time(2, 0))
    assert run_due([job], at(1, 59)) == []
    assert run_due([job], at(2, 5)) == ["nightly"]
    assert run_due([job], at(23, 0)) == []
    assert run_due([job], at(2, 1, day=24)) == ["nightly"]
    assert len(calls) == 2


def test_a_failing_job_does_not_stop_the_others():
    def boom():
        raise RuntimeError("gateway down")

    calls = []
    jobs = [Job("bad", boom, every=datetime.timedelta(minutes=1)),
            Job("good", lambda: calls.append(1), every=datetime.timedelta(minutes=1))]
    assert run_due(jobs, at(10)) == ["good"]
    assert calls == [1]


def test_default_jobs_run_against_a_real_database(db):
    # every scheduled job must at least run on an empty installation
    jobs = default_jobs()
    assert sorted(run_due(jobs, at(3))) == sorted(job.name for job in jobs if job.name != "coupons by rule")
