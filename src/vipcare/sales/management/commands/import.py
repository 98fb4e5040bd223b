"""vipcare import members|sales|opening FILE [--encoding auto|utf-8|gbk] [--dry-run] [--user USERNAME]"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from vipcare.sales.importing import (
    ENCODINGS,
    MAX_STORED_ERRORS,
    FileFormatError,
    members_import,
    opening_balances_import,
    sales_import,
)

IMPORTERS = {"members": members_import, "sales": sales_import, "opening": opening_balances_import}


class Command(BaseCommand):
    help = _("Import members, sales or opening balances from a CSV (UTF-8 or GBK) or .xlsx file: all rows or none.")

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(IMPORTERS), help=_("what the file holds"))
        parser.add_argument("file", type=Path)
        parser.add_argument("--encoding", choices=ENCODINGS, default="auto",
                            help=_("encoding of a CSV file (default: detect UTF-8 or GBK)"))
        parser.add_argument("--dry-run", action="store_true", help=_("check the file and report; write nothing"))
        parser.add_argument("--user", help=_("the login of who imports (required for opening balances: an "
                                             "administrator or operations manager)"))

    def handle(self, *args, kind: str, file: Path, encoding: str, dry_run: bool, user: str | None = None,
               **options):
        # every rejected row goes to stderr as it is found, beyond the ones kept on the batch
        def on_error(error) -> None:
            self.stderr.write(str(error))

        by = None
        if user:
            by = get_user_model().objects.filter(username=user, is_active=True).first()
            if by is None:
                raise CommandError(_("no active user %(user)s") % {"user": user})
        try:
            report = IMPORTERS[kind](path=file, encoding=encoding, dry_run=dry_run, on_error=on_error, user=by)
        except (FileFormatError, PermissionDenied) as exc:
            raise CommandError(str(exc)) from exc
        counts = {"total": report.rows_total, "written": report.rows_written, "skipped": report.rows_skipped,
                  "rejected": report.rows_rejected, "seconds": report.seconds, "file": report.file_name,
                  "encoding": report.encoding or "xlsx"}
        self.stdout.write(_("%(file)s (%(encoding)s): %(total)d rows read, %(written)d written, "
                            "%(skipped)d already present, %(rejected)d rejected, in %(seconds).1f s") % counts)
        if report.ignored_columns:
            self.stdout.write(_("Columns ignored: %(columns)s") % {"columns": ", ".join(report.ignored_columns)})
        if report.errors_total > MAX_STORED_ERRORS:
            self.stdout.write(_("The import record keeps the first %(n)d of %(total)d errors.")
                              % {"n": MAX_STORED_ERRORS, "total": report.errors_total})
        if not report.committed:
            raise CommandError(
                _("Rejected: %(n)d rows have errors; nothing was written (import #%(batch)s).")
                % {"n": report.rows_rejected, "batch": report.batch_id or "-"}
                if not dry_run else _("Dry run: %(n)d rows have errors; nothing was written.")
                % {"n": report.rows_rejected},
                returncode=2,
            )
        if dry_run:
            self.stdout.write(self.style.SUCCESS(_("Dry run: the file is good; nothing was written.")))
        else:
            self.stdout.write(self.style.SUCCESS(_("Committed as import #%(batch)d.") % {"batch": report.batch_id}))
