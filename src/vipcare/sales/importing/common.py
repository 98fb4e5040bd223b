"""What the member and sales imports share: the report, rejected rows, column mapping and the
parsing of money, dates and yes/no values."""

import dataclasses
import datetime
import re
from collections.abc import Callable

from django.utils.translation import gettext as _

from vipcare.sales.importing.readers import normalise_header

# Rejected rows kept on the ImportBatch row and in the returned report; all are counted.
MAX_STORED_ERRORS = 1000


@dataclasses.dataclass(frozen=True)
class RowError:
    """One reason a row was rejected. `code` is stable (for programs and tests), `message` is
    for people, in the active language."""

    line: int
    code: str
    message: str
    column: str = ""
    value: str = ""

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        where = _("line %(line)d") % {"line": self.line}
        column = f" [{self.column}]" if self.column else ""
        value = f" {self.value!r}" if self.value else ""
        return f"{where}{column}:{value} {self.message}"


@dataclasses.dataclass
class ImportReport:
    kind: str
    file_name: str
    encoding: str
    dry_run: bool
    status: str = ""
    rows_total: int = 0
    rows_written: int = 0
    rows_skipped: int = 0
    rows_rejected: int = 0
    errors_total: int = 0
    errors: list[RowError] = dataclasses.field(default_factory=list)
    ignored_columns: list[str] = dataclasses.field(default_factory=list)
    batch_id: int | None = None
    seconds: float = 0.0

    @property
    def committed(self) -> bool:
        return self.status == "committed"


class ErrorLog:
    """Collects rejected rows: counts all of them, keeps the first MAX_STORED_ERRORS, and hands
    each one to `on_error` as it is found (so a command can print every one of them)."""

    def __init__(self, on_error: Callable[[RowError], None] | None = None):
        self.errors: list[RowError] = []
        self.total = 0
        self.rows_rejected = 0
        self._on_error = on_error
        # lines rejected since the last chunk was written: a row with several faults counts once
        self._recent_lines: set[int] = set()

    def add(self, line: int, code: str, message: str, column: str = "", value: str = "") -> None:
        error = RowError(line=line, code=code, message=message, column=column, value=str(value)[:100])
        self.total += 1
        if line not in self._recent_lines:
            self._recent_lines.add(line)
            self.rows_rejected += 1
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append(error)
        if self._on_error is not None:
            self._on_error(error)

    def end_chunk(self) -> None:
        self._recent_lines.clear()

    def __bool__(self) -> bool:
        return self.total > 0


@dataclasses.dataclass(frozen=True)
class Column:
    """A field an import reads, with the header names (English and Chinese) that mean it."""

    field: str
    names: tuple[str, ...]
    required: bool = False

    @property
    def label(self) -> str:
        return f"{self.field} / {self.names[0]}" if self.names else self.field


def map_columns(header: list[str], columns: list[Column], log: ErrorLog,
                one_of: tuple[str, ...] = ()) -> tuple[dict[str, int], list[str]]:
    """Positions of the known columns in `header`, and the headers that were ignored.

    A missing required column, a column given twice, or none of `one_of` present are errors
    on line 1 (the header).
    """
    by_name = {normalise_header(name): column for column in columns for name in (column.field, *column.names)}
    positions: dict[str, int] = {}
    ignored = []
    for i, raw in enumerate(header):
        column = by_name.get(normalise_header(raw))
        if column is None:
            if str(raw).strip():
                ignored.append(str(raw).strip())
        elif column.field in positions:
            log.add(1, "duplicate_column", _("two columns mean %(field)s") % {"field": column.label}, column=raw)
        else:
            positions[column.field] = i
    for column in columns:
        if column.required and column.field not in positions:
            log.add(1, "missing_column", _("the file has no %(field)s column") % {"field": column.label},
                    column=column.label)
    if one_of and not any(f in positions for f in one_of):
        labels = " | ".join(c.label for c in columns if c.field in one_of)
        log.add(1, "missing_column", _("the file needs one of these columns: %(labels)s") % {"labels": labels})
    return positions, ignored


class BadValue(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


_MONEY_JUNK = str.maketrans("", "", "¥￥, 元")


def parse_fen(text: str) -> int:
    """Yuan with at most two decimals ('128', '128.5', '¥1,280.00') → integer fen, without
    going through float. Negative amounts are refused."""
    whole, _dot, frac = text.partition(".")
    if not (whole.isdigit() and whole.isascii() and (frac.isdigit() and frac.isascii() or not frac)):
        cleaned = text.strip().translate(_MONEY_JUNK)
        if cleaned.startswith("-"):
            raise BadValue("bad_price", _("must not be negative"))
        whole, _dot, frac = cleaned.partition(".")
        if not (whole.isdigit() and whole.isascii() or (not whole and frac)) or (
            frac and not (frac.isdigit() and frac.isascii())
        ):
            if not cleaned:
                raise BadValue("missing_value", _("is empty"))
            raise BadValue("bad_price", _("is not an amount in yuan (e.g. 128.50)"))
    if len(frac) > 2:
        if frac[2:].strip("0"):
            raise BadValue("bad_price", _("has more than two decimals (fen)"))
        frac = frac[:2]
    return int(whole or 0) * 100 + int((frac + "00")[:2])


def parse_quantity(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
        cleaned = text.strip()
        if cleaned.endswith(".0"):  # "2.0" from some spreadsheet exports
            cleaned = cleaned[:-2]
        try:
            value = int(cleaned)
        except ValueError:
            raise BadValue("bad_quantity", _("is not a whole number")) from None
    if value < 0:
        raise BadValue("negative_quantity", _("is negative; import refunds separately, not as sale lines"))
    if value == 0:
        raise BadValue("bad_quantity", _("must be at least 1"))
    return value


_DATE_TIME = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[ T]+(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2})(?:\.(\d{1,6}))?秒?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:[ T]?(\d{2})(\d{2})(\d{2})?)?$")


def parse_datetime(text: str, tz: datetime.tzinfo) -> datetime.datetime:
    """A time in the file: ISO 8601, '2026/3/8 14:05', '2026年3月8日 14:05', '20260308 140500'.
    Without an offset it is a time in the deployment's zone `tz`."""
    text = text.strip()
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        match = _DATE_TIME.match(text) or _COMPACT.match(text)
        if not match:
            raise BadValue("bad_date", _("is not a date and time (e.g. 2026-03-08 14:05)")) from None
        parts = match.groups()
        offset = parts[7] if len(parts) > 7 else None
        try:
            value = datetime.datetime(
                int(parts[0]), int(parts[1]), int(parts[2]), int(parts[3] or 0), int(parts[4] or 0),
                int(parts[5] or 0), int(((parts[6] if len(parts) > 6 else None) or "0").ljust(6, "0")),
            )
        except ValueError:
            raise BadValue("bad_date", _("is not a real date")) from None
        if offset == "Z":
            value = value.replace(tzinfo=datetime.UTC)
        elif offset:
            digits = offset[1:].replace(":", "")
            delta = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            value = value.replace(tzinfo=datetime.timezone(delta if offset[0] == "+" else -delta))
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value


def parse_date(text: str) -> datetime.date:
    text = text.strip()
    try:
        return datetime.date.fromisoformat(text[:10] if len(text) > 10 and text[10] in " T" else text)
    except ValueError:
        pass
    match = _DATE_TIME.match(text) or _COMPACT.match(text)
    if not match:
        raise BadValue("bad_date", _("is not a date (e.g. 1985-03-08)"))
    try:
        return datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise BadValue("bad_date", _("is not a real date")) from None


_YES = {"1", "y", "yes", "true", "t", "是", "有", "同意", "接受", "√", "✓", "x"}
_NO = {"", "0", "n", "no", "false", "f", "否", "无", "不同意", "拒绝", "不接受"}


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise BadValue("bad_flag", _("must be yes or no (是/否, 1/0)"))
