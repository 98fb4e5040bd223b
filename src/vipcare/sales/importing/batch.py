"""One import run: an ImportBatch row, one transaction, all-or-nothing."""

import contextlib
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

from django.db import transaction
from django.utils import timezone

from vipcare.core.audit import audit_record
from vipcare.core.models import AuditAction
from vipcare.sales.choices import ImportStatus
from vipcare.sales.importing.common import ErrorLog, ImportReport, RowError
from vipcare.sales.importing.readers import FileFormatError, FileInfo, RowSource
from vipcare.sales.models import ImportBatch


class _Rollback(Exception):
    """Raised inside the transaction to undo everything a rejected or dry run wrote."""


# body(batch, source, log, report) reads the rows, writes them and fills the report's counts
Body = Callable[[ImportBatch, RowSource, ErrorLog, ImportReport], None]


def batch_run(*, info: FileInfo, report: ImportReport, body: Body, user=None,
              on_error: Callable[[RowError], None] | None = None,
              around: Callable[[], AbstractContextManager] = contextlib.nullcontext) -> ImportReport:
    """Run `body` in one transaction. Any rejected row (or a dry run) rolls all of it back;
    the ImportBatch row then records the rejected run on its own (dry runs record nothing).

    The rows are written while they are read, chunk by chunk, even after a row was rejected:
    that keeps one pass over a file of any size, lets the database's own view of what is
    already there (from earlier runs and from this one) decide skips and repeated receipts,
    and the rollback at the end makes the outcome all-or-nothing. `around` wraps the
    transaction (for connection settings that cannot change inside one).
    """
    log = ErrorLog(on_error)
    started = time.monotonic()
    committed_batch = None
    try:
        with RowSource(info) as source, around(), transaction.atomic():
            report.ignored_columns = []
            batch = ImportBatch.objects.create(
                kind=report.kind, file_name=report.file_name[:255], file_sha256=info.sha256,
                encoding=info.encoding, status=ImportStatus.COMMITTED, created_by=user,
            )
            body(batch, source, log, report)
            if log or report.dry_run:
                raise _Rollback
            _fill(batch, report, log, ImportStatus.COMMITTED)
            batch.save()
            audit_record(user=user, action=AuditAction.IMPORT, target=batch,
                         detail={"kind": report.kind, "rows_written": report.rows_written})
            committed_batch = batch
    except _Rollback:
        pass
    except FileFormatError as exc:
        log.add(0, "bad_file", str(exc))
    report.seconds = round(time.monotonic() - started, 3)
    report.errors = sorted(log.errors, key=lambda e: e.line)
    report.errors_total = log.total
    report.rows_rejected = log.rows_rejected
    if committed_batch is not None:
        report.status = ImportStatus.COMMITTED
        report.batch_id = committed_batch.pk
        return report
    if report.dry_run and not log:
        report.status = ImportStatus.COMMITTED  # what a real run would do; rows_written says how much
        return report
    report.status = ImportStatus.REJECTED
    report.rows_written = 0
    if not report.dry_run:
        # outside the rolled-back transaction, so the rejected run stays on record
        batch = ImportBatch(kind=report.kind, file_name=report.file_name[:255], file_sha256=info.sha256,
                            encoding=info.encoding, created_by=user)
        _fill(batch, report, log, ImportStatus.REJECTED)
        batch.save()
        audit_record(user=user, action=AuditAction.IMPORT, target=batch,
                     detail={"kind": report.kind, "rows_rejected": report.rows_rejected})
        report.batch_id = batch.pk
    return report


def _fill(batch: ImportBatch, report: ImportReport, log: ErrorLog, status: str) -> None:
    batch.status = status
    batch.rows_total = report.rows_total
    batch.rows_written = report.rows_written if status == ImportStatus.COMMITTED else 0
    batch.rows_skipped = report.rows_skipped
    batch.rows_rejected = log.rows_rejected
    batch.errors = [e.as_dict() for e in sorted(log.errors, key=lambda e: e.line)]
    batch.finished_at = timezone.now()

