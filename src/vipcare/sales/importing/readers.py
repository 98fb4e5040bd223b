"""Reading import files: CSV in UTF-8 or GBK, and Excel .xlsx, as a stream of rows.

Every reader yields `(line_no, values)` where `values` is a list of strings (Excel cells are
turned into the same text a CSV export would hold) and `line_no` is the spreadsheet row number
(the header is line 1). Nothing holds more than one row at a time.
"""

import codecs
import csv
import dataclasses
import datetime
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _

ENCODINGS = ("auto", "utf-8", "gbk")
_BLOCK = 1 << 20

# gb18030 is a superset of GBK (and of GB2312): it reads every GBK file, and the few characters
# Excel's "GBK" exports sometimes carry from outside GBK.
_CODEC = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gbk": "gb18030", "gb18030": "gb18030"}


class FileFormatError(ValueError):
    """The file as a whole cannot be read (not CSV/xlsx, undecodable, no header)."""


@dataclasses.dataclass(frozen=True)
class FileInfo:
    path: Path
    kind: str  # "csv" or "xlsx"
    sha256: str
    encoding: str  # codec name used for CSV, "" for xlsx


def inspect_file(path: Path, *, encoding: str = "auto") -> FileInfo:
    """Hash the file and, for a CSV with encoding "auto", find its encoding in the same pass.

    A UTF-8 byte-order mark decides at once; otherwise the whole file is trial-decoded as
    UTF-8 (cheap, and a GBK file almost never decodes as UTF-8 past its first Chinese
    character) and falls back to GBK (read as gb18030).
    """
    if encoding not in ENCODINGS:
        raise FileFormatError(_("unknown encoding %(encoding)r") % {"encoding": encoding})
    if not path.is_file():
        raise FileFormatError(_("no such file: %(path)s") % {"path": path})
    digest = hashlib.sha256()
    with path.open("rb") as f:
        head = f.read(4)
        f.seek(0)
        is_xlsx = head.startswith(b"PK\x03\x04")
        if path.suffix.lower() in (".xlsx", ".xlsm") and not is_xlsx:
            raise FileFormatError(_("the file is named .xlsx but is not an Excel workbook"))
        if path.suffix.lower() == ".xls" or head.startswith(b"\xd0\xcf\x11\xe0"):
            raise FileFormatError(_("old Excel .xls files are not supported; save the sheet as .xlsx or CSV"))
        decoder = None
        if not is_xlsx and encoding == "auto":
            if head.startswith(codecs.BOM_UTF8):
                encoding = "utf-8-sig"
            elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise FileFormatError(_("UTF-16 files are not supported; save the file as CSV UTF-8 or GBK"))
            else:
                decoder = codecs.getincrementaldecoder("utf-8")()
        while block := f.read(_BLOCK):
            digest.update(block)
            if decoder is not None:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    decoder = None
                    encoding = "gbk"
        if decoder is not None:
            try:
                decoder.decode(b"", final=True)
                encoding = "utf-8"
            except UnicodeDecodeError:
                encoding = "gbk"
    if is_xlsx:
        return FileInfo(path=path, kind="xlsx", sha256=digest.hexdigest(), encoding="")
    if encoding == "utf-8" and head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    return FileInfo(path=path, kind="csv", sha256=digest.hexdigest(), encoding=_CODEC[encoding])


_BRACKETS = re.compile(r"[(（\[【].*?[)）\]】]")
_SPACES = re.compile(r"[\s_\-]+")


def normalise_header(text: str) -> str:
    """'单价（元）' → '单价', ' Unit Price ' → 'unit_price', 'Card-No' → 'card_no'."""
    text = _BRACKETS.sub("", str(text or "").replace("\ufeff", "")).strip().lower()
    return _SPACES.sub("_", text).strip("_")


class RowSource:
    """An opened import file: `header` (list of str) and `rows()` (the data rows)."""

    def __init__(self, info: FileInfo):
        self.info = info
        self._close = []
        if info.kind == "csv":
            f = info.path.open("r", encoding=info.encoding, newline="", errors="strict")
            self._close.append(f)
            try:
                sample = f.readline()
            except UnicodeDecodeError as exc:
                f.close()
                raise FileFormatError(
                    _("the file is not valid %(encoding)s; choose the right --encoding or save it as UTF-8")
                    % {"encoding": info.encoding}
                ) from exc
            # POS exports use commas; a few tools write tab- or semicolon-separated "CSV".
            delimiter = max((",", "\t", ";"), key=sample.count) if sample.strip() else ","
            f.seek(0)
            self._reader = csv.reader(f, delimiter=delimiter)
            self._iter = enumerate(self._reader, 1)
        else:
            import openpyxl

            try:
                workbook = openpyxl.load_workbook(info.path, read_only=True, data_only=True)
            except Exception as exc:  # openpyxl raises many kinds for a damaged file
                raise FileFormatError(_("the Excel file cannot be read: %(error)s") % {"error": exc}) from exc
            self._close.append(workbook)
            sheet = workbook.worksheets[0]
            self._iter = enumerate((_cells_to_text(r) for r in sheet.iter_rows(values_only=True)), 1)
        self.header = self._read_header()

    def _read_header(self) -> list[str]:
        try:
            for _line, values in self._iter:
                if any(v.strip() for v in values):
                    return values
        except UnicodeDecodeError as exc:
            raise FileFormatError(
                _("the file is not valid %(encoding)s; choose the right --encoding or save it as UTF-8")
                % {"encoding": self.info.encoding}
            ) from exc
        raise FileFormatError(_("the file is empty: no header row"))

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """The data rows; blank rows are left out. A decoding error mid-file raises FileFormatError."""
        line_no = 1
        try:
            for line_no, values in self._iter:  # noqa: B007 (read in the error message)
                if values and (values[0] or any(values)):
                    yield line_no, values
        except UnicodeDecodeError as exc:
            raise FileFormatError(
                _("the file is not valid %(encoding)s after line %(line)d; choose the right --encoding "
                  "or save it as UTF-8") % {"encoding": self.info.encoding, "line": line_no}
            ) from exc

    def close(self) -> None:
        for item in self._close:
            item.close()

    def __enter__(self) -> "RowSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _cells_to_text(cells: tuple) -> list[str]:
    """Excel cell values as the text a CSV export would hold (no float noise, ISO dates)."""
    out = []
    for value in cells:
        if value is None:
            out.append("")
        elif isinstance(value, str):
            out.append(value)
        elif isinstance(value, bool):
            out.append("1" if value else "0")
        elif isinstance(value, float):
            # repr is the shortest text that reads back as the same float: 128.5, not 128.49999
            out.append(str(int(value)) if value.is_integer() else repr(value))
        elif isinstance(value, datetime.datetime):
            out.append(value.isoformat(sep=" "))
        elif isinstance(value, datetime.date | datetime.time):
            out.append(value.isoformat())
        else:
            out.append(str(value))
    # trailing empty cells of a wider sheet: drop them so a blank row is an empty list
    while out and out[-1] == "":
        out.pop()
    return out
