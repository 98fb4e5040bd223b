"""`vipcare check ledgers` proves every points and stored-value account; any other use of
`check` is Django's system check, unchanged (`vipcare check`, `vipcare check --deploy`, …)."""

from django.core.management.base import CommandError
from django.core.management.commands.check import Command as SystemCheckCommand

from vipcare.loyalty.integrity import check_ledgers


class Command(SystemCheckCommand):
    help = ("Checks the project (Django's system check), or with `ledgers`: that every points and "
            "stored-value account equals the sum of its entries, nothing is negative, lots are consistent "
            "and no idempotency key was used twice. Exits with status 1 on any violation.")

    def handle(self, *app_labels, **options):
        if list(app_labels) != ["ledgers"]:
            return super().handle(*app_labels, **options)
        report = check_ledgers()
        self.stdout.write(
            f"points: {report.points_accounts} accounts, {report.points_entries} entries, {report.points_lots} lots "
            f"({report.refund_shortfall_points} points refunds could not take back: spent before the refund)\n"
            f"stored value: {report.wallet_accounts} accounts, {report.wallet_entries} entries"
        )
        for violation in report.violations:
            self.stdout.write(self.style.ERROR(str(violation)))
        if not report.ok:
            raise CommandError(f"{len(report.violations)} ledger violation(s) found", returncode=1)
        self.stdout.write(self.style.SUCCESS("ledgers OK: no violations"))
