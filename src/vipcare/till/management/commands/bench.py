"""vipcare bench till --clients C --seconds S [--database sqlite|postgres] [--repeat N] …

Prints JSON: checkouts/s and p50/p95/p99 latency through the POS API on loopback, the same
checkouts in-process through the services and by hand on the plain driver (the ceilings), their
ratio, and `check ledgers` after each phase. See vipcare/till/bench.py and docs/benchmarks.md."""

import json
import os

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Benchmarks: `bench till` runs real checkouts through the POS API against in-process ceilings."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        till = sub.add_parser("till", help="checkouts through the POS API on loopback, beside the ceilings")
        till.add_argument("--clients", type=int, default=8, help="client threads (default 8)")
        till.add_argument("--seconds", type=float, default=20, help="measured seconds per phase (default 20)")
        till.add_argument("--database", choices=["sqlite", "postgres"], default=None,
                          help="default: postgres if DATABASE_URL is set, else sqlite. PostgreSQL benches in new "
                               "databases on DATABASE_URL's server; SQLite in a temporary folder")
        till.add_argument("--servers", type=int, default=None,
                          help="vipcare serve processes (default 2, one per core; on SQLite their writers queue "
                               "on one lock, vipcare.core.sqlite3)")
        till.add_argument("--threads", type=int, default=8, help="waitress threads per server (default 8)")
        till.add_argument("--members", type=int, default=1000, help="members the checkouts spread over")
        till.add_argument("--repeat", type=int, default=1, help="runs; the medians are reported")
        till.add_argument("--warmup", type=float, default=2, help="seconds sent before measuring")
        till.add_argument("--phases", default="http,services,driver", help="which of http,services,driver")

    def handle(self, *args, what: str, **options):
        from vipcare.till.bench import run

        database = options["database"] or ("postgres" if os.environ.get("DATABASE_URL") else "sqlite")
        if database == "postgres" and not os.environ.get("DATABASE_URL"):
            raise CommandError("--database postgres needs DATABASE_URL (e.g. scripts/with-postgres vipcare bench …)")
        if options["clients"] < 1 or options["seconds"] <= 0:
            raise CommandError("--clients and --seconds must be above zero")
        phases = tuple(p for p in options["phases"].split(",") if p)
        servers = options["servers"] or 2
        report = run(clients=options["clients"], seconds=options["seconds"], database=database, servers=servers,
                     threads=options["threads"], members=options["members"], repeat=options["repeat"],
                     warmup=options["warmup"], phases=phases)
        self.stdout.write(json.dumps(report, ensure_ascii=False, indent=1))
