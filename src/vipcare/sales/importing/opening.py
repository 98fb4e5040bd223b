"""Import of opening balances: the points and stored value members carry over from the mall's old
card system when it moves to vipcare.

One row per member (card number or phone): points, optionally the day they lapse, and the stored
value's principal and bonus. Each member's balances are written through the ledgers' services,
row by row, so the ledger invariants hold exactly as for any other change:

- points: `loyalty.services.points_open` — an opening entry in the name of an authorised person,
  with a reason, in the audit log, spendable at once (not held back by a return window), as a lot
  that lapses on the file's expiry date, or like points earned today when the file gives none;
- stored value: `wallet.services.wallet_open` — one opening entry with the principal and the bonus
  kept apart (the member's home store is where the money is attributed).

Both carry the key `opening-balance` on the member's account: a member has one opening balance,
so running the same file again, or another file naming the same member, adds nothing; a file
that names different amounts for a member who already has them is rejected for that member.
"""

import datetime
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from vipcare.core import crypto
from vipcare.loyalty.models import PointsEntry
from vipcare.loyalty.services import ADJUST_ROLES, points_open
from vipcare.members.choices import MemberStatus
from vipcare.members.models import Member
from vipcare.org.selectors import user_has_role
from vipcare.sales.choices import ImportKind
from vipcare.sales.importing.batch import batch_run
from vipcare.sales.importing.common import BadValue, Column, ErrorLog, ImportReport, map_columns, parse_date, parse_fen
from vipcare.sales.importing.readers import RowSource, inspect_file
from vipcare.sales.models import ImportBatch
from vipcare.wallet.models import WalletEntry
from vipcare.wallet.services import wallet_open

OPENING_KEY = "opening-balance"  # the idempotency key on each member's points and stored-value accounts

OPENING_COLUMNS = [
    Column("card_no", ("卡号", "会员卡号", "card")),
    Column("phone", ("手机", "手机号", "会员手机", "mobile")),
    Column("points", ("积分", "积分余额", "剩余积分", "可用积分")),
    Column("points_expire_on", ("积分有效期", "积分到期日", "积分过期日", "到期日期", "points_expiry")),
    Column("principal", ("储值本金", "本金", "本金余额", "储值余额")),
    Column("bonus", ("赠送金", "赠送余额", "赠送金额", "赠金")),
]


def opening_balances_import(*, path: str | Path, encoding: str = "auto", dry_run: bool = False, user=None,
                            on_error=None) -> ImportReport:
    """Import opening points and stored-value balances (CSV or .xlsx): every row, or none.

    `user` is who carries the balances over: an administrator or operations manager (the points
    are an adjustment in their name, in the audit log)."""
    if not user_has_role(user, ADJUST_ROLES):
        raise PermissionDenied(_("opening balances are imported by an administrator or operations manager"))
    path = Path(path)
    info = inspect_file(path, encoding=encoding)
    report = ImportReport(kind=ImportKind.OPENING, file_name=path.name, encoding=info.encoding, dry_run=dry_run)
    return batch_run(info=info, report=report, body=_OpeningImport(user=user).run, user=user, on_error=on_error)


def parse_points(text: str) -> int:
    cleaned = text.strip().replace(",", "")
    if cleaned.endswith(".0"):  # "1200.0" from some spreadsheet exports
        cleaned = cleaned[:-2]
    if cleaned.startswith("-"):
        raise BadValue("bad_points", _("must not be negative"))
    if not (cleaned.isdigit() and cleaned.isascii()):
        raise BadValue("bad_points", _("is not a whole number of points"))
    return int(cleaned)


def _end_of_day(day: datetime.date) -> datetime.datetime:
    """Points valid "until 2026-12-31" lapse at the local midnight after it."""
    return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))


class _OpeningImport:
    def __init__(self, *, user):
        self.user = user

    def run(self, batch: ImportBatch, source: RowSource, log: ErrorLog, report: ImportReport) -> None:
        pos, report.ignored_columns = map_columns(source.header, OPENING_COLUMNS, log, one_of=("card_no", "phone"))
        if log:
            return
        if not any(f in pos for f in ("points", "principal", "bonus")):
            log.add(1, "missing_column", _("the file has no points, principal or bonus column"))
            return
        now = timezone.now()
        in_file: dict[int, int] = {}  # member id → line
        written = skipped = rows_total = 0

        def value(row: list[str], field: str) -> str:
            i = pos.get(field)
            return row[i].strip() if i is not None and i < len(row) else ""

        for line, row in source.rows():
            rows_total += 1
            errors: list[tuple[str, str, str, str]] = []
            amounts = {}
            for field, parse in (("points", parse_points), ("principal", parse_fen), ("bonus", parse_fen)):
                text = value(row, field)
                try:
                    amounts[field] = parse(text) if text else 0
                except BadValue as exc:
                    errors.append(("bad_amount" if exc.code == "bad_price" else exc.code, exc.message, field, text))
            expires_at = None
            if text := value(row, "points_expire_on"):
                try:
                    expires_at = _end_of_day(parse_date(text))
                except BadValue as exc:
                    errors.append((exc.code, exc.message, "points_expire_on", text))
                else:
                    if expires_at <= now and amounts.get("points"):
                        errors.append(("expired", _("these points have already lapsed"), "points_expire_on", text))
            member, (code, message, column, text) = self._member(value(row, "card_no"), value(row, "phone"))
            if member is None:
                errors.append((code, message, column, text))
            elif member.pk in in_file:
                errors.append(("duplicate_row", _("this member is already on line %(line)d")
                               % {"line": in_file[member.pk]}, column, text))
            else:
                in_file[member.pk] = line
            if not errors and not any(amounts.values()):
                skipped += 1  # nothing to carry over
                continue
            if not errors:
                earlier = self._earlier(member)
                if earlier is not None:
                    if earlier == (amounts["points"], amounts["principal"], amounts["bonus"]):
                        skipped += 1
                        continue
                    errors.append(("already_opened", _("this member already has opening balances from an earlier "
                                                       "import (%(points)d points, %(principal)d + %(bonus)d fen); "
                                                       "change them by hand") % dict(zip(
                                                           ("points", "principal", "bonus"), earlier, strict=True)),
                                   column, text))
            if not errors:
                try:
                    self._write(member, amounts, expires_at, at=now, note=f"import #{batch.pk}, line {line}")
                except ValidationError as exc:
                    errors.extend(("invalid", "; ".join(messages), field, "")
                                  for field, messages in exc.message_dict.items())
            if errors:
                for code, message, column, text in errors:
                    log.add(line, code, message, column, text)
                continue
            written += 1
        report.rows_total = rows_total
        report.rows_written = written
        report.rows_skipped = skipped

    @staticmethod
    def _member(card: str, phone: str) -> tuple[Member | None, tuple[str, str, str, str]]:
        if card:
            member = Member.objects.filter(card_no=card).first()
            while member is not None and member.merged_into_id:  # a merged card: the member it was merged into
                member = member.merged_into
            return member, ("unknown_member", _("no member has this card number"), "card_no", card)
        if not phone:
            return None, ("missing_value", _("the row names no member (card number or phone)"), "card_no", "")
        try:
            index = crypto.phone_index(phone)
        except ValueError:
            return None, ("bad_phone", _("is not a phone number"), "phone", phone)
        member = (Member.objects.filter(phone_index=index, status=MemberStatus.ACTIVE)
                  .order_by("enrolled_at", "pk").first())
        return member, ("unknown_member", _("no member has this phone number"), "phone", phone)

    @staticmethod
    def _earlier(member: Member) -> tuple[int, int, int] | None:
        """(points, principal, bonus) of the member's opening balances if they have any."""
        points = PointsEntry.objects.filter(account__member=member, idempotency_key=OPENING_KEY).values_list(
            "delta", flat=True).first()
        wallet = WalletEntry.objects.filter(account__member=member, idempotency_key=OPENING_KEY).values_list(
            "principal_delta", "bonus_delta").first()
        if points is None and wallet is None:
            return None
        return (points or 0, *(wallet or (0, 0)))

    def _write(self, member: Member, amounts: dict, expires_at: datetime.datetime | None, *,
               at: datetime.datetime, note: str) -> None:
        if amounts["points"]:
            points_open(member=member, points=amounts["points"], expires_at=expires_at, opened_by=self.user, at=at,
                        idempotency_key=OPENING_KEY, reason=f"期初积分 opening balance ({note})")
        if amounts["principal"] or amounts["bonus"]:
            wallet_open(member=member, principal_fen=amounts["principal"], bonus_fen=amounts["bonus"], at=at,
                        idempotency_key=OPENING_KEY, opened_by=self.user, reason=f"期初储值 opening balance ({note})")
