"""`vipcare bench till` end to end, tiny: every phase runs, checkouts go through, the ledgers of
each phase's database check clean (the driver phase writes the rows by hand, so this proves them)."""

import json
import os

import pytest
from django.core.management import call_command


@pytest.mark.django_db(transaction=True)
def test_bench_till_runs_every_phase_and_checks_the_ledgers(capsys):
    call_command("bench", "till", "--clients", "2", "--seconds", "1", "--warmup", "0.2", "--members", "6")
    report = json.loads(capsys.readouterr().out)
    assert report["database"] == ("postgres" if os.environ.get("DATABASE_URL") else "sqlite")
    run = report["runs"][0]
    for phase in ("http", "services", "driver"):
        assert run[phase]["checkouts"] > 0, (phase, run[phase])
        assert run[phase]["check_ledgers"]["ok"], (phase, run[phase]["check_ledgers"])
        assert not [s for s in run[phase]["statuses"] if s.startswith("error")], run[phase]["statuses"]
        assert run[phase]["p50_ms"] <= run[phase]["p99_ms"]
    assert 0 < report["median"]["http_to_driver"] < report["median"]["http_to_services"] * 1.5
