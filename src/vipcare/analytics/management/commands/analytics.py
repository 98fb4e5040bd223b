import datetime
import json

from django.core.management.base import BaseCommand, CommandError

from vipcare.analytics.engines import ENGINES
from vipcare.analytics.services import RefreshError, analytics_refresh


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--as-of must be a date as YYYY-MM-DD, not {value!r}") from exc


class Command(BaseCommand):
    help = "Member analytics. `refresh`: compute every member's scores, labels and lifetime value as of a day."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        refresh = sub.add_parser("refresh", help="recompute the analytics (replaces an earlier run of the same day)")
        refresh.add_argument("--as-of", help="YYYY-MM-DD; nothing after this day counts (default: today)")
        refresh.add_argument("--engine", default="duckdb", help=f"one of {', '.join(ENGINES)} (default duckdb)")
        refresh.add_argument("--json", action="store_true", help="print the refresh as JSON")

    def handle(self, *args, subcommand, **options):
        as_of = _date(options["as_of"]) if options.get("as_of") else None
        try:
            refresh = analytics_refresh(as_of=as_of, engine=options["engine"])
        except RefreshError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps({
                "refresh_id": refresh.pk, "as_of": refresh.as_of.isoformat(), "engine": refresh.engine,
                "members": refresh.member_count, "facts": refresh.fact_count, "current": refresh.is_current,
                "parameters": refresh.parameters, "timings": refresh.timings,
            }, indent=2))
        else:
            bgnbd = refresh.parameters.get("bgnbd")
            fitted = f"; BG/NBD log-likelihood {bgnbd['log_likelihood']:.1f}" if bgnbd else ""
            self.stdout.write(f"analytics as of {refresh.as_of}: {refresh.member_count} members, "
                              f"{refresh.fact_count} sale facts ({refresh.engine}){fitted}")
