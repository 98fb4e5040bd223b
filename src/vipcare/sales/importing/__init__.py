"""File import of members, of sales and of opening balances (CSV in UTF-8 or GBK, Excel .xlsx); see docs/import.md."""

from vipcare.sales.importing.common import MAX_STORED_ERRORS, ImportReport, RowError
from vipcare.sales.importing.members import MEMBER_COLUMNS, members_import
from vipcare.sales.importing.opening import OPENING_COLUMNS, opening_balances_import
from vipcare.sales.importing.readers import ENCODINGS, FileFormatError
from vipcare.sales.importing.sales import SALES_COLUMNS, sales_import

__all__ = [
    "ENCODINGS", "MAX_STORED_ERRORS", "MEMBER_COLUMNS", "OPENING_COLUMNS", "SALES_COLUMNS", "FileFormatError",
    "ImportReport", "RowError", "members_import", "opening_balances_import", "sales_import",
]
