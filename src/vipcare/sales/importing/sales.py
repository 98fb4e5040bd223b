"""Import of sales from a POS export: one row per sale line, the lines of a receipt together.

Speed matters here (files of millions of lines), so this module writes with the DB-API cursor
(executemany on SQLite, COPY on PostgreSQL) inside the batch's single transaction, and keeps
the per-line Python work to a few dict look-ups and integer sums: everything that belongs to
the receipt (store, member, time, staff) is worked out once per receipt, not per line, and
prices and quantities already seen are not parsed again.
"""

import contextlib
import datetime
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from vipcare.core import crypto
from vipcare.members.choices import MemberStatus
from vipcare.members.models import Member
from vipcare.org.models import Staff, Store
from vipcare.sales.choices import ImportKind, SaleSource
from vipcare.sales.importing.batch import batch_run
from vipcare.sales.importing.common import (
    BadValue,
    Column,
    ErrorLog,
    ImportReport,
    map_columns,
    parse_datetime,
    parse_fen,
    parse_quantity,
)
from vipcare.sales.importing.readers import RowSource, inspect_file
from vipcare.sales.models import ImportBatch, Sale, SaleLine

SALES_COLUMNS = [
    Column("store_code", ("门店编码", "门店代码", "店铺编码", "专柜编码", "store"), required=True),
    Column("receipt_no", ("小票号", "小票编号", "单据号", "流水号", "receipt"), required=True),
    Column("sold_at", ("销售时间", "交易时间", "销售日期", "time"), required=True),
    Column("card_no", ("卡号", "会员卡号", "card")),
    Column("phone", ("手机", "手机号", "会员手机")),
    Column("brand", ("品牌",)),
    Column("sku", ("款号", "货号", "style")),
    Column("category", ("品类", "类别")),
    Column("unit_price", ("单价", "售价", "price"), required=True),
    Column("quantity", ("数量", "qty"), required=True),
    Column("discount", ("折扣", "折扣金额", "优惠金额")),
    Column("staff_no", ("导购工号", "营业员工号", "工号")),
]

_SALE_COLUMNS = ("id", "store_id", "member_id", "receipt_no", "sold_at", "total_fen", "item_count", "staff_id",
                 "source", "import_batch_id", "created_at")
_LINE_COLUMNS = ("sale_id", "member_id", "store_id", "sold_at", "brand", "sku", "category", "unit_price_fen",
                 "quantity", "discount_fen", "amount_fen")
# how far in the future a sale time may lie (tills with a clock a little ahead)
_CLOCK_SKEW = datetime.timedelta(minutes=10)
_CACHE_LIMIT = 100_000
_SQLITE_CACHE_KIB = 64 * 1024


def sales_import(*, path: str | Path, encoding: str = "auto", dry_run: bool = False, user=None,
                 on_error=None, chunk_size: int | None = None) -> ImportReport:
    """Import a sales file (CSV or .xlsx): all of it, or — if any row is rejected — none of it.

    Receipts already recorded for the store (same store and receipt number) are skipped, so a
    file can be imported again safely. `on_error(RowError)` is called for every rejected row.
    """
    path = Path(path)
    info = inspect_file(path, encoding=encoding)
    report = ImportReport(kind=ImportKind.SALES, file_name=path.name, encoding=info.encoding, dry_run=dry_run)
    importer = _SalesImport(chunk_size=chunk_size or settings.VIPCARE_IMPORT_CHUNK)
    return batch_run(info=info, report=report, body=importer.run, user=user, on_error=on_error,
                     around=_without_sqlite_foreign_key_checks)


@contextlib.contextmanager
def _without_sqlite_foreign_key_checks():
    """SQLite checks every foreign key of every inserted row (four look-ups per sale line); the
    import needs none of them: it takes store, member and staff ids from the tables themselves,
    read inside its own transaction, which holds SQLite's only write lock from BEGIN IMMEDIATE to
    COMMIT — nobody can delete a member or store meanwhile — and the sale ids are its own.
    The pragma only works outside a transaction, so it is a no-op when the import runs inside
    one (tests). PostgreSQL keeps its checks."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.constraint_checks_disabled():
        yield


class _Writer:
    """The SQL of the import, per database. Sale ids are chosen here so the lines can carry them.

    SQLite: the batch's transaction is BEGIN IMMEDIATE (settings) and it has already written
    the ImportBatch row, so it holds the database's only write lock until it commits; nobody
    else can insert a sale meanwhile, and max(id) + 1 onwards is ours. The AUTOINCREMENT
    counter (sqlite_sequence) is consulted too, so ids of deleted sales are never reused.
    PostgreSQL: ids come from the table's own sequence, a block at a time (nextval over
    generate_series); a sequence never hands the same value out twice, so concurrent POS
    sales and imports cannot collide, whatever the order of the returned values.
    """

    def __init__(self, cursor, batch_id: int):
        self.cursor = cursor
        self.batch_id = batch_id
        self.vendor = connection.vendor
        self.sale_table = connection.ops.quote_name(Sale._meta.db_table)
        self.line_table = connection.ops.quote_name(SaleLine._meta.db_table)
        placeholders = ", ".join(["%s"] * len(_SALE_COLUMNS))
        self.sale_insert = f"INSERT INTO {self.sale_table} ({', '.join(_SALE_COLUMNS)}) VALUES ({placeholders})"
        placeholders = ", ".join(["%s"] * len(_LINE_COLUMNS))
        self.line_insert = f"INSERT INTO {self.line_table} ({', '.join(_LINE_COLUMNS)}) VALUES ({placeholders})"

    def sale_ids(self, block: int):
        if self.vendor == "postgresql":
            self.cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Sale._meta.db_table])
            sequence = self.cursor.fetchone()[0]
            while True:
                self.cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, block])
                yield from (row[0] for row in self.cursor.fetchall())
        else:
            self.cursor.execute(
                f"SELECT max(coalesce((SELECT max(id) FROM {self.sale_table}), 0),"
                " coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))",
                [Sale._meta.db_table],
            )
            next_id = self.cursor.fetchone()[0] + 1
            while True:
                yield next_id
                next_id += 1

    def existing(self, keys: list[tuple[int, str]]) -> dict[tuple[int, str], int | None]:
        """Of these (store id, receipt number) pairs, those already recorded → their import batch."""
        found = {}
        for start in range(0, len(keys), 5000):
            part = keys[start:start + 5000]
            if self.vendor == "postgresql":
                self.cursor.execute(
                    f"SELECT s.store_id, s.receipt_no, s.import_batch_id FROM {self.sale_table} s"
                    " JOIN unnest(%s::bigint[], %s::text[]) AS k(store_id, receipt_no)"
                    " ON s.store_id = k.store_id AND s.receipt_no = k.receipt_no",
                    [[k[0] for k in part], [k[1] for k in part]],
                )
            else:
                values = ", ".join(["(%s, %s)"] * len(part))
                self.cursor.execute(
                    f"SELECT s.store_id, s.receipt_no, s.import_batch_id FROM (VALUES {values}) AS k"
                    f" JOIN {self.sale_table} s ON s.store_id = k.column1 AND s.receipt_no = k.column2",
                    [v for k in part for v in k],
                )
            found.update(((row[0], row[1]), row[2]) for row in self.cursor.fetchall())
        return found

    def write(self, sales: list[tuple], lines: list[tuple]) -> None:
        if self.vendor == "postgresql":
            raw = self.cursor.cursor  # psycopg's own cursor: COPY is several times faster than INSERT
            with raw.copy(f"COPY {self.sale_table} ({', '.join(_SALE_COLUMNS)}) FROM STDIN") as copy:
                for row in sales:
                    copy.write_row(row)
            with raw.copy(f"COPY {self.line_table} ({', '.join(_LINE_COLUMNS)}) FROM STDIN") as copy:
                for row in lines:
                    copy.write_row(row)
        else:
            self.cursor.executemany(self.sale_insert, sales)
            self.cursor.executemany(self.line_insert, lines)


class _SalesImport:
    def __init__(self, *, chunk_size: int):
        self.chunk_size = max(1, chunk_size)

    def run(self, batch: ImportBatch, source: RowSource, log: ErrorLog, report: ImportReport) -> None:
        pos, report.ignored_columns = map_columns(source.header, SALES_COLUMNS, log, one_of=("card_no", "phone"))
        if log:
            return  # the header is wrong: no row can be read
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: PostgreSQL would queue
                # a check per line until COMMIT (memory on the server grows with the file).
                # Checked at the end of each COPY instead, the queue never exceeds a chunk.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            if connection.vendor == "sqlite":
                # a bigger page cache for this transaction: the index B-trees of millions of new
                # lines stay in memory instead of spilling to the WAL mid-transaction
                cache_size = cursor.execute("PRAGMA cache_size").fetchone()[0]
                cursor.execute(f"PRAGMA cache_size = {-_SQLITE_CACHE_KIB}")
            try:
                self._run(batch, source, log, report, pos, _Writer(cursor, batch.pk))
            finally:
                if connection.vendor == "sqlite":
                    cursor.execute(f"PRAGMA cache_size = {int(cache_size)}")
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # as Django declared them, for the rest

    def _run(self, batch, source, log: ErrorLog, report: ImportReport, pos: dict[str, int], writer: _Writer) -> None:
        stores = dict(Store.objects.values_list("code", "id"))
        staff_ids = dict(Staff.objects.values_list("staff_no", "id"))
        cards = _card_map()
        phones: dict[str, int | None] = {}  # phone as written → member id (blind index looked up once)
        phone_index: dict[str, int] | None = None
        tz = timezone.get_default_timezone()
        if connection.vendor == "sqlite":
            # what Django's SQLite backend stores for an aware datetime: naive UTC as text
            def adapt_time(value: datetime.datetime) -> str:
                return str(value.astimezone(datetime.UTC).replace(tzinfo=None))
        else:
            def adapt_time(value: datetime.datetime) -> datetime.datetime:
                return value
        now = timezone.now()
        latest = now + _CLOCK_SKEW
        created_at = adapt_time(now)
        batch_id = batch.pk
        source_value = str(SaleSource.IMPORT)
        max_receipt = Sale._meta.get_field("receipt_no").max_length
        max_brand = SaleLine._meta.get_field("brand").max_length
        max_sku = SaleLine._meta.get_field("sku").max_length
        max_category = SaleLine._meta.get_field("category").max_length
        sale_ids = writer.sale_ids(self.chunk_size)

        i_store, i_receipt, i_time = pos["store_code"], pos["receipt_no"], pos["sold_at"]
        i_price, i_qty = pos["unit_price"], pos["quantity"]
        i_card, i_phone, i_disc = pos.get("card_no"), pos.get("phone"), pos.get("discount")
        i_brand, i_sku, i_category, i_staff = pos.get("brand"), pos.get("sku"), pos.get("category"), pos.get("staff_no")
        width = max(pos.values()) + 1
        prices: dict[str, int] = {}
        quantities: dict[str, int] = {}
        add_error = log.add

        chunk_sales: list[tuple] = []  # sale rows of the chunk
        chunk_lines: list[tuple] = []  # line rows of the chunk
        # per receipt of the chunk: (store id, receipt no, first line, last line, first line row index, rows)
        chunk_receipts: list[tuple] = []
        chunk_keys: dict[tuple[int, str], int] = {}  # receipts begun in this chunk → first line
        rows_total = written = skipped = 0

        def flush() -> None:
            nonlocal written, skipped
            if chunk_receipts:
                found = writer.existing([(r[0], r[1]) for r in chunk_receipts])
                if found:
                    keep_sales, keep_lines = [], []
                    for receipt, sale in zip(chunk_receipts, chunk_sales, strict=True):
                        store_id, receipt_no, first, last, start, count = receipt
                        if (store_id, receipt_no) not in found:
                            keep_sales.append(sale)
                            keep_lines.extend(chunk_lines[start:start + count])
                        elif found[(store_id, receipt_no)] == batch_id:
                            for line in range(first, last + 1):
                                add_error(line, "receipt_not_contiguous",
                                          _("receipt %(receipt)s of this store appeared earlier in the file; "
                                            "the lines of a receipt must be next to each other")
                                          % {"receipt": receipt_no}, "receipt_no", receipt_no)
                        else:
                            skipped += last - first + 1
                    sales, lines = keep_sales, keep_lines
                else:
                    sales, lines = chunk_sales, chunk_lines
                writer.write(sales, lines)
                written += len(lines)
            chunk_sales.clear()
            chunk_lines.clear()
            chunk_receipts.clear()
            chunk_keys.clear()
            log.end_chunk()

        # the receipt being read
        cur_store = cur_receipt = None
        cur_card = cur_phone = ""
        cur_ok = False  # the receipt's store, member and time are good
        cur_errors: list[tuple] = []  # receipt-level faults, repeated on each of its lines
        sale_id = store_id = member_id = staff_id = sold_at = None
        receipt_no = ""
        first_line = last_line = start = total = items = 0

        def close_receipt() -> None:
            if cur_ok and len(chunk_lines) > start:
                chunk_sales.append((sale_id, store_id, member_id, receipt_no, sold_at, total, items, staff_id,
                                    source_value, batch_id, created_at))
                chunk_receipts.append((store_id, receipt_no, first_line, last_line, start, len(chunk_lines) - start))

        for line, row in source.rows():
            rows_total += 1
            if len(row) < width:  # Excel leaves trailing empty cells out; short CSV rows alike
                row = row + [""] * (width - len(row))
            if row[i_receipt] != cur_receipt or row[i_store] != cur_store:
                close_receipt()
                if len(chunk_lines) >= self.chunk_size:
                    flush()
                # a new receipt: what it says about store, member, time and staff is read once
                cur_receipt, cur_store = row[i_receipt], row[i_store]
                cur_card = row[i_card] if i_card is not None else ""
                cur_phone = row[i_phone] if i_phone is not None else ""
                cur_errors = []
                first_line = line
                start = len(chunk_lines)
                total = items = 0
                receipt_no = cur_receipt.strip()
                store_id = stores.get(cur_store.strip())
                if store_id is None:
                    if cur_store.strip():
                        cur_errors.append(("unknown_store", _("no store has this code"), "store_code", cur_store))
                    else:
                        cur_errors.append(("missing_value", _("the store code is empty"), "store_code", ""))
                if not receipt_no:
                    cur_errors.append(("missing_value", _("the receipt number is empty"), "receipt_no", ""))
                elif len(receipt_no) > max_receipt:
                    cur_errors.append(("too_long", _("is longer than %(n)d characters") % {"n": max_receipt},
                                       "receipt_no", receipt_no))
                elif store_id is not None:
                    key = (store_id, receipt_no)
                    if key in chunk_keys:
                        cur_errors.append(("receipt_not_contiguous",
                                           _("receipt %(receipt)s of this store appeared earlier in the file "
                                             "(line %(line)d); the lines of a receipt must be next to each other")
                                           % {"receipt": receipt_no, "line": chunk_keys[key]},
                                           "receipt_no", receipt_no))
                    else:
                        chunk_keys[key] = line
                card = cur_card.strip()
                if card:
                    member_id = cards.get(card)
                    if member_id is None:
                        cur_errors.append(("unknown_member", _("no member has this card number"), "card_no", card))
                elif cur_phone.strip():
                    member_id = phones.get(cur_phone, 0)
                    if member_id == 0:
                        if phone_index is None:
                            phone_index = _phone_map()
                        try:
                            member_id = phone_index.get(crypto.phone_index(cur_phone))
                        except ValueError:
                            member_id = None
                        if len(phones) > _CACHE_LIMIT:
                            phones.clear()
                        phones[cur_phone] = member_id
                    if member_id is None:
                        cur_errors.append(("unknown_member", _("no member has this phone number"), "phone",
                                           cur_phone))
                else:
                    member_id = None
                    cur_errors.append(("missing_value", _("the row names no member (card number or phone)"),
                                       "card_no", ""))
                try:
                    when = parse_datetime(row[i_time], tz)
                    if when > latest:
                        cur_errors.append(("bad_date", _("is in the future"), "sold_at", row[i_time]))
                    sold_at = adapt_time(when)
                except BadValue as exc:
                    cur_errors.append((exc.code, exc.message, "sold_at", row[i_time]))
                staff_id = None
                if i_staff is not None and (staff_no := row[i_staff].strip()):
                    staff_id = staff_ids.get(staff_no)
                    if staff_id is None:
                        cur_errors.append(("unknown_staff", _("no staff member has this number"), "staff_no",
                                           staff_no))
                cur_ok = not cur_errors
                if cur_ok:
                    sale_id = next(sale_ids)
            elif ((i_card is not None and row[i_card] != cur_card)
                  or (i_phone is not None and row[i_phone] != cur_phone)):
                add_error(line, "member_mismatch", _("a line of this receipt names another member than its first line"),
                          "card_no" if i_card is not None else "phone", row[i_card if i_card is not None else i_phone])
                continue
            last_line = line
            if cur_errors:
                for code, message, column, value in cur_errors:
                    add_error(line, code, message, column, value)
                continue

            # the line itself
            ok = True
            text = row[i_price]
            price = prices.get(text)
            if price is None:
                try:
                    price = parse_fen(text)
                    if len(prices) > _CACHE_LIMIT:
                        prices.clear()
                    prices[text] = price
                except BadValue as exc:
                    add_error(line, exc.code, exc.message, "unit_price", text)
                    ok = False
            text = row[i_qty]
            quantity = quantities.get(text)
            if quantity is None:
                try:
                    quantity = parse_quantity(text)
                    if len(quantities) > _CACHE_LIMIT:
                        quantities.clear()
                    quantities[text] = quantity
                except BadValue as exc:
                    add_error(line, exc.code, exc.message, "quantity", text)
                    ok = False
            discount = 0
            if i_disc is not None and (text := row[i_disc]) and text != "0":
                discount = prices.get(text)
                if discount is None:
                    try:
                        discount = parse_fen(text)
                        if len(prices) > _CACHE_LIMIT:
                            prices.clear()
                        prices[text] = discount
                    except BadValue as exc:
                        add_error(line, "bad_discount", exc.message, "discount", text)
                        ok = False
            brand = row[i_brand].strip() if i_brand is not None else ""
            sku = row[i_sku].strip() if i_sku is not None else ""
            category = row[i_category].strip() if i_category is not None else ""
            if len(brand) > max_brand or len(sku) > max_sku or len(category) > max_category:
                for column, value, limit in (("brand", brand, max_brand), ("sku", sku, max_sku),
                                             ("category", category, max_category)):
                    if len(value) > limit:
                        add_error(line, "too_long", _("is longer than %(n)d characters") % {"n": limit}, column, value)
                ok = False
            if not ok:
                continue
            amount = price * quantity - discount
            if amount < 0:
                add_error(line, "bad_discount", _("the discount is larger than the line's price"), "discount",
                          row[i_disc])
                continue
            chunk_lines.append((sale_id, member_id, store_id, sold_at, brand, sku, category, price, quantity,
                                discount, amount))
            total += amount
            items += quantity

        close_receipt()
        flush()
        report.rows_total = rows_total
        report.rows_written = written
        report.rows_skipped = skipped


def _card_map() -> dict[str, int]:
    """Card number → the member id a sale goes to; a merged card's sales go to the kept member."""
    merged_into = dict(Member.objects.filter(status=MemberStatus.MERGED).values_list("id", "merged_into_id"))
    cards = {}
    for card_no, member_id in Member.objects.values_list("card_no", "id").iterator(chunk_size=10_000):
        seen = 0
        while member_id in merged_into and seen < 20:  # follow a chain of merges (bounded, in case of a cycle)
            member_id = merged_into[member_id]
            seen += 1
        cards[card_no] = member_id
    return cards


def _phone_map() -> dict[str, int]:
    """Blind phone index → active member; several cards on one phone: the oldest wins, as at the till."""
    rows = (
        Member.objects.filter(status=MemberStatus.ACTIVE).exclude(phone_index="")
        .order_by("-enrolled_at", "-pk").values_list("phone_index", "id").iterator(chunk_size=10_000)
    )
    return dict(rows)
