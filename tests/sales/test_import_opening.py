"""Opening balances carried over from an old card system: points (with the old expiry) and stored
value (principal and bonus apart) through the ledgers' services; CSV in UTF-8 or GBK and .xlsx;
all rows or none, every rejected row reported, and the same file twice adds nothing."""

import csv
import datetime
import shutil
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from tests import factories
from tests.loyalty.helpers import assert_ledgers_clean
from vipcare.core.models import AuditLogEntry
from vipcare.loyalty.models import PointsAccount, PointsEntry, PointsLot
from vipcare.loyalty.services import points_spend
from vipcare.members.services import member_merge
from vipcare.sales.importing import members_import, opening_balances_import
from vipcare.sales.models import ImportBatch
from vipcare.wallet.models import WalletAccount, WalletEntry

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
HEADER = ["会员卡号", "手机号", "积分余额", "积分有效期", "储值本金（元）", "赠送金（元）"]
NEXT_YEAR = (timezone.localdate() + datetime.timedelta(days=400)).isoformat()


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def write_csv(path, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as f:
        csv.writer(f, lineterminator="\r\n").writerows(rows)
    return path


def balances() -> dict:
    points = dict(PointsAccount.objects.values_list("member__card_no", "balance"))
    wallet = {card: (p, b) for card, p, b in WalletAccount.objects.values_list("member__card_no", "principal_fen",
                                                                              "bonus_fen")}
    return {"points": points, "wallet": wallet, "entries": PointsEntry.objects.count() + WalletEntry.objects.count(),
            "lots": PointsLot.objects.count()}


@pytest.fixture
def members(db, store):
    return [factories.member(name="林晓雯", card_no="880000000101", phone="13905710101", home_store=store),
            factories.member(name="陈建国", card_no="880000000102", phone="13905710102"),
            factories.member(name="赵雨", card_no="880000000104", phone="13905710104")]


def test_opening_import_writes_points_with_their_expiry_and_stored_value_apart(tmp_path, members, ops_manager, store):
    # given an export of the old card system in GBK with Chinese headers
    path = write_csv(tmp_path / "opening.csv", [
        HEADER,
        ["880000000101", "", "12,680", NEXT_YEAR, "1,000.00", "200.00"],
        ["880000000102", "", "3500", "", "2500", "750"],
        ["", "139 0571 0104", "860", "", "", ""],
    ], encoding="gbk")
    # when an operations manager imports it
    report = opening_balances_import(path=path, user=ops_manager.user)
    # then every member has the balances, spendable at once, and the ledgers are clean
    assert report.committed and report.encoding == "gb18030" and report.rows_written == 3
    assert balances()["points"] == {"880000000101": 12680, "880000000102": 3500, "880000000104": 860}
    assert balances()["wallet"] == {"880000000101": (100000, 20000), "880000000102": (250000, 75000)}
    lot = PointsLot.objects.get(account__member=members[0])
    expected = timezone.make_aware(datetime.datetime.fromisoformat(NEXT_YEAR) + datetime.timedelta(days=1))
    assert lot.expires_at == expected and lot.matured  # lapses after the old system's last day
    assert PointsLot.objects.get(account__member=members[1]).expires_at is not None  # the policy's expiry
    assert set(PointsEntry.objects.values_list("kind", flat=True)) >= {"opening"}
    entry = WalletEntry.objects.get(account__member=members[0])
    assert entry.kind == "opening" and entry.store == store and entry.created_by == ops_manager.user
    assert "opening balance" in entry.reason
    points_spend(member=members[0], points=12680, idempotency_key="spend-all")  # no return window in the way
    assert_ledgers_clean()
    # the opening points and the import are in the audit log, in the operations manager's name
    assert AuditLogEntry.objects.filter(action="points_adjust", user=ops_manager.user).count() == 3
    assert AuditLogEntry.objects.filter(action="import", user=ops_manager.user).count() == 1
    assert ImportBatch.objects.get().kind == "opening"


def test_opening_import_twice_adds_nothing(tmp_path, members, ops_manager):
    path = write_csv(tmp_path / "opening.csv", [HEADER, ["880000000101", "", "100", "", "10", "2"]])
    assert opening_balances_import(path=path, user=ops_manager.user).rows_written == 1
    before = balances()
    again = opening_balances_import(path=path, user=ops_manager.user)
    assert again.committed and again.rows_written == 0 and again.rows_skipped == 1
    assert balances() == before


def test_opening_import_refuses_other_amounts_for_a_member_already_opened(tmp_path, members, ops_manager):
    opening_balances_import(path=write_csv(tmp_path / "a.csv", [HEADER, ["880000000101", "", "100", "", "", ""]]),
                            user=ops_manager.user)
    before = balances()
    report = opening_balances_import(path=write_csv(tmp_path / "b.csv", [
        HEADER, ["880000000102", "", "50", "", "", ""], ["880000000101", "", "120", "", "", ""]]),
        user=ops_manager.user)
    assert not report.committed and {(e.line, e.code) for e in report.errors} == {(3, "already_opened")}
    assert balances() == before  # member 102's row is not written either: all or nothing


def test_opening_import_reports_every_bad_row_and_writes_nothing(tmp_path, members, ops_manager):
    # given a file where some rows are good and others are wrong in different ways
    for card in ("880000000105", "880000000106", "880000000107"):
        factories.member(name="会员", card_no=card)
    keep = factories.member(name="林晓雯", card_no="880000000999")
    member_merge(keep=keep, duplicate=members[2])  # 104 now finds 999
    path = write_csv(tmp_path / "opening.csv", [
        HEADER,
        ["880000000101", "", "100", "", "", ""],                  # 2 good
        ["880000009999", "", "100", "", "", ""],                  # 3 unknown card
        ["", "13900000000", "100", "", "", ""],                   # 4 unknown phone
        ["", "12", "100", "", "", ""],                            # 5 not a phone
        ["880000000102", "", "-5", "", "", ""],                   # 6 negative points
        ["880000000105", "", "1.5", "", "12.345", "x"],           # 7 bad points, principal, bonus
        ["880000000106", "", "10", "2020-01-01", "", ""],         # 8 points that lapsed
        ["880000000107", "", "10", "31/12/2030", "", ""],         # 9 not a date
        ["880000000101", "", "5", "", "", ""],                    # 10 the same member again
        ["", "", "5", "", "", ""],                                # 11 no member
        ["880000000104", "", "5", "", "", ""],                    # 12 merged card: good, goes to 999
    ])
    # when it is imported
    lines = []
    report = opening_balances_import(path=path, user=ops_manager.user, on_error=lambda e: lines.append(e.line))
    # then each bad row is reported with its line and reason, and nothing at all is written
    assert not report.committed
    assert {(e.line, e.code) for e in report.errors} == {
        (3, "unknown_member"), (4, "unknown_member"), (5, "bad_phone"), (6, "bad_points"), (7, "bad_points"),
        (7, "bad_amount"), (8, "expired"), (9, "bad_date"), (10, "duplicate_row"), (11, "missing_value")}
    assert report.rows_rejected == 9 and sorted(set(lines)) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert not PointsEntry.objects.filter(idempotency_key="opening-balance").exists()
    assert not WalletEntry.objects.exists()
    assert ImportBatch.objects.get().status == "rejected"
    # and once the bad rows are fixed, the merged card's balance goes to the member it was merged into
    fixed = write_csv(tmp_path / "fixed.csv", [HEADER, ["880000000104", "", "5", "", "", ""]])
    assert opening_balances_import(path=fixed, user=ops_manager.user).committed
    assert PointsAccount.objects.get(member=keep).balance == 5


def test_opening_import_needs_an_authorised_user(tmp_path, members, account_manager):
    path = write_csv(tmp_path / "opening.csv", [HEADER, ["880000000101", "", "100", "", "", ""]])
    with pytest.raises(PermissionDenied):
        opening_balances_import(path=path, user=account_manager.user)
    with pytest.raises(PermissionDenied):
        opening_balances_import(path=path, user=None)
    assert not PointsEntry.objects.exists() and not ImportBatch.objects.exists()


def test_opening_import_dry_run_checks_and_writes_nothing(tmp_path, members, ops_manager):
    path = write_csv(tmp_path / "opening.csv", [HEADER, ["880000000101", "", "100", "", "10", ""]])
    report = opening_balances_import(path=path, user=ops_manager.user, dry_run=True)
    assert report.committed and report.rows_written == 1
    assert not PointsEntry.objects.exists() and not WalletEntry.objects.exists() and not ImportBatch.objects.exists()


def test_opening_import_needs_a_member_column_and_an_amount_column(tmp_path, members, ops_manager):
    no_member = opening_balances_import(path=write_csv(tmp_path / "a.csv", [["积分"], ["100"]]), user=ops_manager.user)
    assert {(e.line, e.code) for e in no_member.errors} == {(1, "missing_column")}
    no_amount = opening_balances_import(path=write_csv(tmp_path / "b.csv", [["卡号"], ["880000000101"]]),
                                        user=ops_manager.user)
    assert {(e.line, e.code) for e in no_amount.errors} == {(1, "missing_column")}


def test_opening_samples_import_after_the_members_sample(tmp_path, store, ops_manager):
    # given the members of docs/samples/members.csv (their stores must exist)
    for code in ("F201", "F301", "C101", "J101"):
        factories.store(code=code)
    assert members_import(path=SAMPLES / "members.csv").committed
    # when both opening samples are imported, in either order, and again
    gbk = opening_balances_import(path=SAMPLES / "opening-gbk.csv", user=ops_manager.user)
    xlsx = opening_balances_import(path=SAMPLES / "opening.xlsx", user=ops_manager.user)
    assert gbk.committed and gbk.rows_written == 3
    assert xlsx.committed and xlsx.rows_written == 1 and xlsx.rows_skipped == 2  # 101 already there; 102 empty
    before = balances()
    assert opening_balances_import(path=SAMPLES / "opening-gbk.csv", user=ops_manager.user).rows_written == 0
    assert balances() == before
    assert before["points"] == {"880000000101": 12680, "880000000102": 3500, "880000000103": 4200,
                                **{card: 860 for card in before["points"] if card not in (
                                    "880000000101", "880000000102", "880000000103")}}
    assert before["wallet"]["880000000103"] == (30000, 0)
    assert_ledgers_clean()


def test_import_command_opening_needs_the_user_and_exits_2_on_bad_rows(tmp_path, members, ops_manager, capsys):
    good = write_csv(tmp_path / "good.csv", [HEADER, ["880000000101", "", "100", "", "", ""]])
    with pytest.raises(CommandError, match="administrator or operations manager"):
        call_command("import", "opening", str(good))
    with pytest.raises(CommandError, match="no active user"):
        call_command("import", "opening", str(good), user="nobody")
    call_command("import", "opening", str(good), user=ops_manager.user.username)
    assert PointsAccount.objects.get(member=members[0]).balance == 100
    bad = shutil.copy(good, tmp_path / "bad.csv")
    write_csv(bad, [HEADER, ["880000000102", "", "-1", "", "", ""]])
    with pytest.raises(CommandError) as error:
        call_command("import", "opening", str(bad), user=ops_manager.user.username)
    assert error.value.returncode == 2
    assert "line 2 [points]: '-1' must not be negative" in capsys.readouterr().err


def test_opening_import_reads_xlsx_numbers_and_dates(tmp_path, members, ops_manager):
    book = openpyxl.Workbook()
    book.active.append(["card_no", "points", "points_expire_on", "principal", "bonus"])
    book.active.append(["880000000101", 1500, datetime.datetime.fromisoformat(NEXT_YEAR), 0.29, 1280.5])
    book.save(tmp_path / "opening.xlsx")
    report = opening_balances_import(path=tmp_path / "opening.xlsx", user=ops_manager.user)
    assert report.committed, report.errors
    assert balances()["points"] == {"880000000101": 1500}
    assert balances()["wallet"] == {"880000000101": (29, 128050)}
