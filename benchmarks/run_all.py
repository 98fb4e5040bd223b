"""`make bench`: every benchmark at a size that finishes in minutes on a 2-core machine.

Each script prints JSON (or a table) of medians beside the baseline it measures in the same run;
the full-size runs and their command lines are in docs/benchmarks.md. Pass --full for the sizes
quoted there (hours, and a 1M-member demo database for the lookup benchmark).
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def run(title: str, *args: str, env: dict | None = None) -> None:
    print(f"\n## {title}\n$ {' '.join(args)}", flush=True)
    subprocess.run(args, cwd=ROOT, env={**os.environ, **(env or {})}, check=True)


def main() -> None:
    full = "--full" in sys.argv
    run("Import", PY, "benchmarks/import_bench.py", "--rows", "10000000" if full else "200000", "--database", "sqlite",
        "--repeat", "1" if full else "3")
    run("Analytics", PY, "benchmarks/analytics_bench.py", "--lines",
        *(["100000", "1000000", "10000000", "20000000"] if full else ["100000", "1000000"]),
        "--lifetimes-up-to", "1000000" if full else "100000", "--repeat", "3")
    run("Care", PY, "benchmarks/care_bench.py", "1000000" if full else "20000")
    with tempfile.TemporaryDirectory(prefix="vipcare-lookup-") as folder:
        members = "1000000" if full else "20000"
        env = {"VIPCARE_DATA_DIR": folder}
        env.pop("DATABASE_URL", None)
        run("Demo database for the lookup benchmark", PY, "-m", "vipcare.cli", "demo", "--members", members,
            "--data-only", env=env)
        run("Member lookup and member 360", PY, "benchmarks/lookup_bench.py", "--samples", "300", env=env)
    run("Till", PY, "-m", "vipcare.cli", "bench", "till", "--clients", "8", "--seconds", "20" if full else "5",
        "--repeat", "3" if full else "1")


if __name__ == "__main__":
    main()
