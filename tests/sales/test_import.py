import csv
import datetime

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import translation

from tests import factories
from vipcare.core import crypto
from vipcare.members.models import Member
from vipcare.members.services import member_merge
from vipcare.sales.importing import common, members_import, sales_import
from vipcare.sales.importing.common import BadValue, parse_datetime, parse_fen
from vipcare.sales.models import ImportBatch, Sale, SaleLine

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
ZH_HEADER = ["门店编码", "小票号", "销售时间", "卡号", "品牌", "款号", "品类", "单价（元）", "数量", "折扣金额",
             "导购工号"]
EN_HEADER = ["store_code", "receipt_no", "sold_at", "card_no", "brand", "sku", "category", "unit_price", "quantity",
             "discount", "staff_no"]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def write_csv(path, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as f:
        csv.writer(f, lineterminator="\r\n").writerows(rows)
    return path


def line(store, receipt, card, price="100.00", quantity="1", discount="", when="2026-11-01 14:05:12", brand="衣恋",
         sku="A1", category="连衣裙", staff=""):
    return [store, receipt, when, card, brand, sku, category, price, quantity, discount, staff]


def codes(report) -> set[tuple[int, str]]:
    return {(e.line, e.code) for e in report.errors}


# --- reading files ---------------------------------------------------------------------------------------------------

def test_sales_import_reads_utf8_csv_with_chinese_headers(tmp_path, store, other_store, member):
    # given a POS export in UTF-8 with Chinese headers: two receipts, the first with two lines
    path = write_csv(tmp_path / "sales.csv", [
        ZH_HEADER,
        line("F101", "R-1", member.card_no, price="899.5", discount="90"),
        line("F101", "R-1", member.card_no, price="199", quantity="2"),
        line("C201", "R-1", member.card_no, price="1,080.05", when="2026/11/2 9:30"),
    ])
    # when it is imported
    report = sales_import(path=path)
    # then each receipt is one sale with its lines, in integer fen, at the right UTC time
    assert report.committed and report.encoding == "utf-8"
    assert (report.rows_total, report.rows_written, report.rows_skipped, report.rows_rejected) == (3, 3, 0, 0)
    first = Sale.objects.get(store=store, receipt_no="R-1")
    assert (first.total_fen, first.item_count, first.member_id, first.source) == (89950 - 9000 + 39800, 3,
                                                                                  member.pk, "import")
    assert first.sold_at == datetime.datetime(2026, 11, 1, 14, 5, 12, tzinfo=SHANGHAI)
    assert sorted(first.lines.values_list("unit_price_fen", "quantity", "discount_fen", "amount_fen")) == [
        (19900, 2, 0, 39800), (89950, 1, 9000, 80950)]
    second = Sale.objects.get(store=other_store, receipt_no="R-1")
    assert second.total_fen == 108005
    assert second.sold_at == datetime.datetime(2026, 11, 2, 9, 30, tzinfo=SHANGHAI)
    assert set(SaleLine.objects.values_list("member_id", flat=True)) == {member.pk}
    batch = ImportBatch.objects.get(pk=report.batch_id)
    assert (batch.status, batch.kind, batch.rows_written, batch.encoding) == ("committed", "sales", 3, "utf-8")
    assert Sale.objects.filter(import_batch=batch).count() == 2


def test_sales_import_detects_gbk_and_keeps_chinese_text(tmp_path, store, member):
    # given a GBK export (as Chinese POS systems write them) — it is not valid UTF-8
    path = write_csv(tmp_path / "gbk.csv", [ZH_HEADER, line("F101", "G-1", member.card_no, brand="太平鸟女装")],
                     encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")
    # when it is imported with the encoding detected
    report = sales_import(path=path)
    # then the Chinese text arrived intact
    assert report.committed and report.encoding == "gb18030"
    assert SaleLine.objects.get().brand == "太平鸟女装"


def test_sales_import_reads_gbk_when_told_and_rejects_gbk_read_as_utf8(tmp_path, store, member):
    path = write_csv(tmp_path / "gbk.csv", [ZH_HEADER, line("F101", "G-2", member.card_no, brand="歌莉娅")],
                     encoding="gbk")
    wrong = sales_import(path=path, encoding="utf-8")
    assert not wrong.committed and wrong.errors[0].code == "bad_file"
    assert Sale.objects.count() == 0
    assert sales_import(path=path, encoding="gbk").committed
    assert SaleLine.objects.get().brand == "歌莉娅"


def test_sales_import_reads_utf8_with_bom(tmp_path, store, member):
    # Excel's "CSV UTF-8" puts a byte-order mark before the first header
    path = write_csv(tmp_path / "bom.csv", [ZH_HEADER, line("F101", "B-1", member.card_no)], encoding="utf-8-sig")
    report = sales_import(path=path)
    assert report.committed and report.rows_written == 1


def test_sales_import_reads_xlsx_cells_without_float_noise(tmp_path, store, member):
    # given an Excel sheet with English headers, number cells and date cells
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(EN_HEADER)
    sheet.append(["F101", "X-1", datetime.datetime(2026, 11, 3, 16, 20), member.card_no, "周大福", "G18", "黄金",
                  0.29, 3, None, None])
    sheet.append(["F101", "X-1", datetime.datetime(2026, 11, 3, 16, 20), member.card_no, "周大福", "BOX", "包装",
                  12888.1, 1, 888, None])
    sheet.append([])  # trailing blank row, as spreadsheets have
    path = tmp_path / "sales.xlsx"
    workbook.save(path)
    # when it is imported
    report = sales_import(path=path)
    # then 0.29 yuan is 29 fen (not 28 from 0.29 * 100 = 28.999…) and times are local
    assert report.committed, report.errors
    sale = Sale.objects.get()
    assert sorted(sale.lines.values_list("unit_price_fen", "amount_fen")) == [(29, 87), (1288810, 1288810 - 88800)]
    assert sale.sold_at == datetime.datetime(2026, 11, 3, 16, 20, tzinfo=SHANGHAI)


# --- all or nothing --------------------------------------------------------------------------------------------------

def test_sales_import_rejects_the_whole_file_and_lists_every_bad_row(tmp_path, store, member):
    # given good rows with six bad ones among them
    path = write_csv(tmp_path / "bad.csv", [
        ZH_HEADER,
        line("F101", "OK-1", member.card_no),
        line("NOPE", "BAD-1", member.card_no),                   # 3 unknown store code
        line("F101", "BAD-2", "999999"),                         # 4 unknown member card
        line("F101", "BAD-3", member.card_no, price="12.345"),   # 5 price with fractions of a fen
        line("F101", "BAD-4", member.card_no, quantity="-1"),    # 6 negative quantity
        line("F101", "BAD-5", member.card_no, when="2026-13-01 10:00"),  # 7 no such month
        line("F101", "OK-2", member.card_no),
        line("F101", "BAD-6", member.card_no, price="abc", quantity="x"),  # 9 two faults in one row
    ])
    # when it is imported
    report = sales_import(path=path)
    # then nothing was written, and every bad row is reported with its line and reason
    assert report.status == "rejected"
    assert Sale.objects.count() == 0 and SaleLine.objects.count() == 0
    assert codes(report) == {(3, "unknown_store"), (4, "unknown_member"), (5, "bad_price"), (6, "negative_quantity"),
                             (7, "bad_date"), (9, "bad_price"), (9, "bad_quantity")}
    assert report.rows_rejected == 6 and report.errors_total == 7 and report.rows_written == 0
    # and the rejected run is on record, with its errors
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.rows_total, batch.rows_rejected, batch.rows_written) == ("rejected", 8, 6, 0)
    assert {(e["line"], e["code"]) for e in batch.errors} == codes(report)
    assert "12.345" in {e["value"] for e in batch.errors}


def test_sales_import_rejects_a_file_without_a_required_column(tmp_path, store, member):
    header = [h for h in ZH_HEADER if h != "单价（元）"]
    path = write_csv(tmp_path / "nocol.csv", [header, ["F101", "R", "2026-11-01 10:00", member.card_no] + [""] * 6])
    report = sales_import(path=path)
    assert not report.committed
    assert [(e.line, e.code) for e in report.errors] == [(1, "missing_column")]
    assert "unit_price" in report.errors[0].message


def test_sales_import_keeps_all_errors_counted_but_stores_only_the_first(tmp_path, store, member, monkeypatch):
    monkeypatch.setattr(common, "MAX_STORED_ERRORS", 5)
    path = write_csv(tmp_path / "many.csv", [ZH_HEADER] + [line("F101", f"R{i}", "nobody") for i in range(40)])
    seen = []
    report = sales_import(path=path, on_error=seen.append)
    assert report.errors_total == 40 and report.rows_rejected == 40 and len(seen) == 40
    assert len(report.errors) == 5 and len(ImportBatch.objects.get().errors) == 5


def test_sales_import_dry_run_writes_nothing_not_even_the_batch(tmp_path, store, member):
    path = write_csv(tmp_path / "dry.csv", [ZH_HEADER, line("F101", "D-1", member.card_no)])
    report = sales_import(path=path, dry_run=True)
    assert report.status == "committed" and report.rows_written == 1
    assert Sale.objects.count() == 0 and ImportBatch.objects.count() == 0


# --- receipts --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("chunk_size", [1, 1000])
def test_sales_import_rejects_a_receipt_whose_lines_are_apart(tmp_path, store, member, chunk_size):
    # given receipt A, then B, then A again — within one chunk, or across chunks already written
    path = write_csv(tmp_path / "apart.csv", [
        ZH_HEADER,
        line("F101", "A", member.card_no),
        line("F101", "B", member.card_no),
        line("F101", "A", member.card_no, sku="late"),
        line("F101", "A", member.card_no, sku="later"),
    ])
    report = sales_import(path=path, chunk_size=chunk_size)
    assert not report.committed and Sale.objects.count() == 0
    assert codes(report) == {(4, "receipt_not_contiguous"), (5, "receipt_not_contiguous")}


def test_sales_import_rejects_lines_of_one_receipt_naming_two_members(tmp_path, store, member):
    other = factories.member(name="张伟", phone="13900000001")
    path = write_csv(tmp_path / "two.csv", [
        ZH_HEADER, line("F101", "M", member.card_no), line("F101", "M", other.card_no)])
    report = sales_import(path=path)
    assert codes(report) == {(3, "member_mismatch")}


def test_sales_import_writes_across_chunks_with_ids_that_do_not_collide(tmp_path, store, member):
    # given a sale recorded at the till before the import
    before = factories.sale(member, store, 5000)
    rows = [ZH_HEADER]
    for i in range(25):
        rows += [line("F101", f"C{i}", member.card_no, price=f"{i}.01"), line("F101", f"C{i}", member.card_no)]
    path = write_csv(tmp_path / "chunks.csv", rows)
    # when 50 lines are imported 4 at a time
    report = sales_import(path=path, chunk_size=4)
    # then every receipt has its two lines, and the till can still record sales afterwards
    assert report.committed and report.rows_written == 50
    assert Sale.objects.filter(import_batch_id=report.batch_id).count() == 25
    assert all(s.lines.count() == 2 and s.item_count == 2 for s in Sale.objects.exclude(pk=before.pk))
    assert Sale.objects.get(receipt_no="C7").total_fen == 701 + 10000
    after = factories.sale(member, store, 7000)
    assert after.pk > max(Sale.objects.exclude(pk=after.pk).values_list("pk", flat=True))


# --- idempotency -----------------------------------------------------------------------------------------------------

def test_sales_import_run_twice_adds_nothing_the_second_time(tmp_path, store, member):
    rows = [ZH_HEADER, line("F101", "I-1", member.card_no), line("F101", "I-1", member.card_no),
            line("F101", "I-2", member.card_no)]
    path = write_csv(tmp_path / "again.csv", rows)
    first = sales_import(path=path)
    second = sales_import(path=path)
    assert (first.rows_written, first.rows_skipped) == (3, 0)
    assert second.committed and (second.rows_written, second.rows_skipped) == (0, 3)
    assert Sale.objects.count() == 2 and SaleLine.objects.count() == 3
    # and a longer export that repeats them adds only the new receipt
    path = write_csv(tmp_path / "more.csv", rows + [line("F101", "I-3", member.card_no)])
    third = sales_import(path=path, chunk_size=2)
    assert (third.rows_written, third.rows_skipped) == (1, 3)
    assert Sale.objects.count() == 3


def test_sales_import_skips_receipts_recorded_at_the_till(tmp_path, store, member):
    factories.sale(member, store, 5000, receipt_no="POS-9")
    path = write_csv(tmp_path / "pos.csv", [ZH_HEADER, line("F101", "POS-9", member.card_no)])
    report = sales_import(path=path)
    assert report.committed and report.rows_skipped == 1 and Sale.objects.count() == 1


# --- members on sales ------------------------------------------------------------------------------------------------

def test_sales_import_finds_members_by_phone_and_follows_merged_cards(tmp_path, store, member):
    duplicate = factories.member(name="李娜", phone="13700000009")
    member_merge(keep=member, duplicate=duplicate)
    path = write_csv(tmp_path / "phone.csv", [
        ["门店编码", "小票号", "销售时间", "卡号", "手机", "单价", "数量"],
        ["F101", "P-1", "2026-11-01 10:00", "", "+86 138-1234-5678", "10", "1"],
        ["F101", "P-2", "2026-11-01 11:00", duplicate.card_no, "", "10", "1"],
        ["F101", "P-3", "2026-11-01 12:00", "", "13000000000", "10", "1"],
    ])
    report = sales_import(path=path)
    assert codes(report) == {(4, "unknown_member")}
    path = write_csv(tmp_path / "phone2.csv", [
        ["门店编码", "小票号", "销售时间", "卡号", "手机", "单价", "数量"],
        ["F101", "P-1", "2026-11-01 10:00", "", "+86 138-1234-5678", "10", "1"],
        ["F101", "P-2", "2026-11-01 11:00", duplicate.card_no, "", "10", "1"],
    ])
    assert sales_import(path=path).committed
    assert set(Sale.objects.values_list("member_id", flat=True)) == {member.pk}


# --- parsing ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, fen", [("128", 12800), ("128.5", 12850), ("128.05", 12805), ("0.1", 10),
                                       ("¥1,280.00", 128000), (" 12.30 ", 1230), ("12.300", 1230), (".5", 50)])
def test_parse_fen_reads_yuan_exactly(text, fen):
    assert parse_fen(text) == fen


@pytest.mark.parametrize("text", ["12.345", "-5", "abc", "1e3", "", "１２"])
def test_parse_fen_refuses_what_is_not_an_amount(text):
    with pytest.raises(BadValue):
        parse_fen(text)


@pytest.mark.parametrize("text, expected", [
    ("2026-03-08 14:05", datetime.datetime(2026, 3, 8, 14, 5, tzinfo=SHANGHAI)),
    ("2026/3/8 14:05:09", datetime.datetime(2026, 3, 8, 14, 5, 9, tzinfo=SHANGHAI)),
    ("2026年3月8日 14:05", datetime.datetime(2026, 3, 8, 14, 5, tzinfo=SHANGHAI)),
    ("20260308 140500", datetime.datetime(2026, 3, 8, 14, 5, tzinfo=SHANGHAI)),
    ("2026-03-08T06:05:00Z", datetime.datetime(2026, 3, 8, 6, 5, tzinfo=datetime.UTC)),
    ("2026/03/08 06:05 +00:00", datetime.datetime(2026, 3, 8, 6, 5, tzinfo=datetime.UTC)),
])
def test_parse_datetime_uses_the_deployment_zone_unless_the_time_has_an_offset(text, expected):
    assert parse_datetime(text, SHANGHAI) == expected


# --- members ---------------------------------------------------------------------------------------------------------

MEMBER_HEADER = ["卡号", "姓名", "手机", "性别", "生日", "农历", "邮箱", "地址", "上装尺码", "鞋码", "短信许可",
                 "微信许可", "所属门店", "入会日期", "兴趣爱好"]


def test_members_import_applies_the_member_rules_in_bulk(tmp_path, store):
    path = write_csv(tmp_path / "members.csv", [
        MEMBER_HEADER,
        ["880000000101", "林晓雯", "139 0571 0101", "女", "1986-03-08", "否", "xw@example.com",
         "杭州市西湖区文三路398号", "M", "37", "是", "1", "F101", "2019-05-01", "瑜伽"],
        ["880000000102", "陈建国", "13905710102", "男", "1972/8/15", "农历", "", "", "XL", "42", "否", "否", "", "",
         ""],
        ["", "赵雨", "13905710104", "", "", "", "", "", "", "", "", "", "", "", ""],
    ], encoding="gbk")
    report = members_import(path=path)
    assert report.committed and report.rows_written == 3, report.errors
    lin = Member.objects.get(card_no="880000000101")
    assert (lin.gender, lin.birthday, lin.birthday_calendar, lin.home_store, lin.hobbies) == (
        "F", datetime.date(1986, 3, 8), "solar", store, "瑜伽")
    assert lin.consent_sms and lin.consent_wechat and not lin.consent_email and lin.consent_updated_at
    assert lin.enrolled_at == datetime.datetime(2019, 5, 1, tzinfo=SHANGHAI)
    assert lin.phone_index == crypto.phone_index("13905710101") and lin.birthday_key
    assert lin.completeness_quantity > 0 and lin.completeness_quality > 0
    assert Member.objects.get(card_no="880000000102").birthday_calendar == "lunar"
    zhao = Member.objects.get(name="赵雨")
    assert len(zhao.card_no) == 12 and zhao.source == "import"
    # personal data is encrypted at rest, like members enrolled by staff
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, email FROM members_member WHERE card_no = %s", ["880000000101"])
        phone, email = cursor.fetchone()
    assert "13905710101" not in phone and "xw@example.com" not in email


def test_members_import_run_twice_skips_cards_and_phones_already_known(tmp_path, store, member):
    path = write_csv(tmp_path / "m.csv", [
        ["卡号", "姓名", "手机"], ["880000000201", "周杰", "13600000001"],
        ["", "李娜", "13812345678"],  # no card, the phone of an existing member
    ])
    first = members_import(path=path)
    second = members_import(path=path)
    assert (first.rows_written, first.rows_skipped) == (1, 1)
    assert (second.rows_written, second.rows_skipped) == (0, 2)
    assert Member.objects.count() == 2


def test_members_import_rejects_the_whole_file_and_lists_every_bad_row(tmp_path, store):
    future = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    path = write_csv(tmp_path / "bad.csv", [
        MEMBER_HEADER[:6] + ["所属门店"],
        ["880000000301", "好人", "13600000002", "女", "", "", ""],
        ["880000000302", "坏号", "12ab", "女", "", "", ""],         # 3 not a phone
        ["880000000303", "未来", "", "男", future, "", ""],           # 4 birthday in the future
        ["880000000304", "无店", "", "男", "", "", "X999"],          # 5 unknown store
        ["880000000301", "重复", "", "男", "", "", ""],              # 6 card twice in the file
        ["880000000306", "", "", "男", "", "", ""],                  # 7 no name
        ["880000000307", "怪人", "", "?", "1990-02-30", "也许", ""],  # 8 gender, date, lunar flag
    ])
    report = members_import(path=path)
    assert report.status == "rejected" and Member.objects.count() == 0
    assert codes(report) == {(3, "bad_phone"), (3, "invalid"), (4, "invalid"), (5, "unknown_store"),
                             (6, "duplicate_row"), (7, "invalid"), (8, "bad_gender"), (8, "bad_date"), (8, "bad_flag")}
    assert report.rows_rejected == 6


def test_members_import_reads_xlsx_dates(tmp_path, store):
    workbook = openpyxl.Workbook()
    workbook.active.append(["card_no", "name", "birthday", "gender", "home_store"])
    workbook.active.append(["880000000401", "沈玉", datetime.datetime(1990, 6, 1), "F", "F101"])
    path = tmp_path / "m.xlsx"
    workbook.save(path)
    assert members_import(path=path).committed
    assert Member.objects.get().birthday == datetime.date(1990, 6, 1)


# --- the command -----------------------------------------------------------------------------------------------------

@pytest.fixture
def keep_connection(monkeypatch):
    # run_from_argv closes every connection when it ends; the test's transaction must survive it
    from django.core.management import base

    monkeypatch.setattr(base.connections, "close_all", lambda: None)


def test_import_command_reports_and_exits_zero_on_success(tmp_path, store, member, capsys, keep_connection):
    from vipcare.cli import main

    path = write_csv(tmp_path / "ok.csv", [ZH_HEADER, line("F101", "K-1", member.card_no)])
    main(["import", "sales", str(path), "--skip-checks"])  # returns normally: exit status 0
    out = capsys.readouterr().out
    assert "1 rows read, 1 written" in out and "Committed as import #" in out
    assert Sale.objects.get().receipt_no == "K-1"


def test_import_command_exits_non_zero_and_prints_every_rejected_row(tmp_path, store, member, capsys,
                                                                    keep_connection):
    from vipcare.cli import main

    path = write_csv(tmp_path / "bad.csv", [ZH_HEADER, line("F101", "K-1", member.card_no),
                                            line("ZZZ", "K-2", member.card_no), line("F101", "K-3", "0")])
    with pytest.raises(SystemExit) as exit_info:
        main(["import", "sales", str(path), "--skip-checks"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "line 3 [store_code]: 'ZZZ'" in err and "line 4 [card_no]: '0'" in err
    assert "nothing was written" in err
    assert Sale.objects.count() == 0


def test_import_command_dry_run_and_encoding_option(tmp_path, store, member):
    path = write_csv(tmp_path / "gbk.csv", [ZH_HEADER, line("F101", "K-9", member.card_no)], encoding="gbk")
    call_command("import", "sales", str(path), "--encoding", "gbk", "--dry-run")
    assert Sale.objects.count() == 0
    with pytest.raises(CommandError):
        call_command("import", "sales", str(tmp_path / "missing.csv"))
