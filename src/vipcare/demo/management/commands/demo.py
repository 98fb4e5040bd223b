import datetime

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from vipcare.demo import catalogue
from vipcare.demo.generate import generate
from vipcare.demo.organisation import demo_logins
from vipcare.members.models import Member


def _pending_migrations() -> bool:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


class Command(BaseCommand):
    help = "Fill an empty database with a deterministic demo mall: stores, staff, members and sales."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=2000, help="member cards to create (default 2000)")
        parser.add_argument("--years", type=int, default=2, help="years of purchase history (default 2)")
        parser.add_argument("--seed", type=int, default=1, help="same seed, same demo (default 1)")
        parser.add_argument("--as-of", type=datetime.date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                            help="the demo's today: history ends the day before (default: today)")
        parser.add_argument("--if-empty", action="store_true", help="do nothing if there are members already")
        parser.add_argument("--workers", type=int, default=1, help="processes building rows (for big runs)")
        parser.add_argument("--chunk-size", type=int, default=10_000, help="members per transaction")
        parser.add_argument("--data-only", action="store_true",
                            help="only members and sales: skip levels, points, analytics and care (big runs)")

    def handle(self, *args, members, years, seed, as_of, if_empty, workers, chunk_size, data_only, **options):
        if members < 1 or years < 1:
            raise CommandError("--members and --years must be at least 1")
        busiest = None  # the account manager with the fullest care day, to suggest as a login
        if _pending_migrations():
            call_command("migrate", interactive=False, verbosity=0)
        if Member.objects.exists():
            if not if_empty:
                raise CommandError("the database already has members; demo data goes into an empty database "
                                   "(use a fresh VIPCARE_DATA_DIR, or --if-empty to skip)")
            self.stdout.write("The database already has members: no demo data added.")
        else:
            as_of = as_of or timezone.localdate()
            self.stdout.write(f"Generating {members:,} members with {years} year(s) of purchases up to "
                              f"{as_of - datetime.timedelta(days=1)} (seed {seed})…")

            def progress(result):
                if members >= 50_000:
                    self.stdout.write(f"  {result.members:,} members, {result.lines:,} sale lines, "
                                      f"{result.seconds:.0f} s")

            result = generate(members=members, years=years, seed=seed, as_of=as_of, workers=workers,
                              chunk_size=chunk_size, progress=progress)
            self.stdout.write(self.style.SUCCESS(
                f"Created {result.members:,} members, {result.sales:,} sales with {result.lines:,} lines "
                f"(¥{result.spend_fen / 100:,.0f}) and {result.refunds:,} refunds in {result.seconds:.1f} s."))
            if not data_only:
                from vipcare.demo.programme import bring_to_life

                busiest = bring_to_life(as_of=as_of, write=self.stdout.write)
        self.stdout.write("")
        self.stdout.write("Open http://127.0.0.1:8000/ and sign in as (demo only — never use these passwords "
                          "for real data):")
        for username, role, store in demo_logins():
            where = f", {store}" if store else ""
            self.stdout.write(f"  {username:<14} / {catalogue.DEMO_PASSWORD}   {role}{where}")
        if busiest:
            self.stdout.write(f"  {busiest:<14} / {catalogue.DEMO_PASSWORD}   the account manager with the most "
                              "care tasks today (see 今天 / Today)")
