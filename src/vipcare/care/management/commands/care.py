import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from vipcare.care.messaging import outbox_drain
from vipcare.care.playbooks.engine import care_day_generate
from vipcare.care.services import account_managers_assign


class Command(BaseCommand):
    help = "Care engine: `run --date YYYY-MM-DD` writes a day's tasks and messages; `send` drains the outbox; " \
           "`assign` gives members without an account manager one."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run")
        run.add_argument("--date", help="YYYY-MM-DD (default today)")
        sub.add_parser("send")
        sub.add_parser("assign")

    def handle(self, *args, action, **options):
        if action == "run":
            try:
                day = datetime.date.fromisoformat(options["date"]) if options.get("date") else timezone.localdate()
            except ValueError as exc:
                raise CommandError(f"--date must be YYYY-MM-DD: {options['date']}") from exc
            report = care_day_generate(day=day)
            self.stdout.write(f"{day}: {sum(report.tasks.values())} tasks, {sum(report.messages.values())} messages")
            for kind, n in sorted((report.tasks + report.messages).items()):
                self.stdout.write(f"  {kind}: {n}")
            for reason, n in sorted(report.skipped.items()):
                self.stdout.write(f"  skipped ({reason}): {n}")
        elif action == "send":
            result = outbox_drain()
            self.stdout.write(", ".join(f"{k} {v}" for k, v in sorted(result.items())))
        else:
            self.stdout.write(f"assigned {account_managers_assign()} members")
