"""Import of members with their opening data (a card system's export, a spreadsheet).

Each row goes through the member services' own rules — the validation, the encryption of
personal fields, the blind indexes and the completeness scores (member_refresh_derived) —
and the rows are then written with bulk_create, a chunk at a time: members are far fewer than
sale lines, and Fernet encryption, not the database, is what takes the time here.
"""

import secrets
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from vipcare.core import crypto
from vipcare.members.choices import BirthdayCalendar, Gender, MemberSource, MemberStatus
from vipcare.members.models import SOFT_ARCHIVE_FIELDS, Member, MemberFieldDefinition
from vipcare.members.services import member_refresh_derived, member_validate
from vipcare.org.models import Staff, Store
from vipcare.sales.choices import ImportKind
from vipcare.sales.importing.batch import batch_run
from vipcare.sales.importing.common import (
    BadValue,
    Column,
    ErrorLog,
    ImportReport,
    map_columns,
    parse_bool,
    parse_date,
    parse_datetime,
)
from vipcare.sales.importing.readers import RowSource, inspect_file
from vipcare.sales.models import ImportBatch

_SOFT_NAMES = {
    "occupation": ("职业",), "work_situation": ("工作情况", "工作单位"), "family_situation": ("家庭情况",),
    "personality": ("性格",), "consumption_habits": ("消费习惯",), "style_preferences": ("着装风格", "风格偏好"),
    "hobbies": ("爱好", "兴趣爱好"), "lifestyle": ("生活方式",), "service_preference": ("服务偏好",),
    "promotion_receptiveness": ("促销接受度",), "values": ("价值观",), "income_band": ("收入", "收入水平"),
    "education": ("学历",), "residential_area": ("居住区域", "居住地"),
}

MEMBER_COLUMNS = [
    Column("card_no", ("卡号", "会员卡号", "card")),
    Column("name", ("姓名", "会员姓名"), required=True),
    Column("phone", ("手机", "手机号", "电话", "mobile")),
    Column("gender", ("性别", "sex")),
    Column("birthday", ("生日", "出生日期", "birth_date")),
    Column("lunar_birthday", ("农历", "农历生日", "生日类型", "lunar")),
    Column("ethnicity", ("民族",)),
    Column("email", ("邮箱", "电子邮箱", "e-mail")),
    Column("address", ("地址", "联系地址", "通讯地址")),
    Column("id_number", ("身份证号", "证件号码")),
    Column("size_top", ("上装尺码", "上衣尺码")),
    Column("size_bottom", ("下装尺码", "裤装尺码")),
    Column("size_shoe", ("鞋码",)),
    Column("consent_sms", ("短信许可", "接受短信")),
    Column("consent_phone", ("电话许可", "接受电话")),
    Column("consent_wechat", ("微信许可", "接受微信")),
    Column("consent_email", ("邮件许可", "接受邮件")),
    Column("home_store_code", ("所属门店", "开卡门店", "门店编码", "home_store")),
    Column("account_manager_no", ("专属顾问工号", "客户经理工号", "account_manager")),
    Column("enrolled_at", ("入会日期", "入会时间", "开卡日期")),
    *(Column(field, _SOFT_NAMES.get(field, ())) for field in SOFT_ARCHIVE_FIELDS),
]
_TEXT_FIELDS = ("ethnicity", "email", "address", "id_number", "size_top", "size_bottom", "size_shoe",
                *SOFT_ARCHIVE_FIELDS)
_CONSENTS = ("consent_sms", "consent_phone", "consent_wechat", "consent_email")
_GENDERS = {"f": Gender.FEMALE, "female": Gender.FEMALE, "女": Gender.FEMALE, "女士": Gender.FEMALE,
            "m": Gender.MALE, "male": Gender.MALE, "男": Gender.MALE, "男士": Gender.MALE,
            "": Gender.UNKNOWN, "u": Gender.UNKNOWN, "未知": Gender.UNKNOWN, "保密": Gender.UNKNOWN}
_LUNAR = {"农历": True, "阴历": True, "lunar": True, "公历": False, "阳历": False, "solar": False}


def members_import(*, path: str | Path, encoding: str = "auto", dry_run: bool = False, user=None,
                   on_error=None, chunk_size: int | None = None) -> ImportReport:
    """Import members (CSV or .xlsx): all rows, or — if any row is rejected — none.

    A row whose card number is already known is skipped, as is a row without a card number
    whose phone already belongs to a member; such a row gets a new card number otherwise.
    """
    path = Path(path)
    info = inspect_file(path, encoding=encoding)
    report = ImportReport(kind=ImportKind.MEMBERS, file_name=path.name, encoding=info.encoding, dry_run=dry_run)
    importer = _MembersImport(chunk_size=chunk_size or settings.VIPCARE_IMPORT_CHUNK)
    return batch_run(info=info, report=report, body=importer.run, user=user, on_error=on_error)


class _MembersImport:
    def __init__(self, *, chunk_size: int):
        self.chunk_size = max(1, min(chunk_size, 2000))  # rows of ~40 columns: keep statements modest

    def run(self, batch: ImportBatch, source: RowSource, log: ErrorLog, report: ImportReport) -> None:
        definitions = list(MemberFieldDefinition.objects.all())
        columns = MEMBER_COLUMNS + [Column(f"extra:{d.key}", (d.key, d.label)) for d in definitions]
        pos, report.ignored_columns = map_columns(source.header, columns, log, one_of=())
        if log:
            return
        stores = dict(Store.objects.values_list("code", "id"))
        staff_ids = dict(Staff.objects.values_list("staff_no", "id"))
        known_cards = set(Member.objects.values_list("card_no", flat=True).iterator(chunk_size=10_000))
        known_phones = set(
            Member.objects.filter(status=MemberStatus.ACTIVE).exclude(phone_index="")
            .values_list("phone_index", flat=True).iterator(chunk_size=10_000)
        )
        file_cards: dict[str, int] = {}
        file_phones: dict[str, int] = {}
        extra_keys = [d.key for d in definitions if d.counts_for_completeness]
        tz = timezone.get_default_timezone()
        now = timezone.now()
        today = timezone.localdate()
        max_card = Member._meta.get_field("card_no").max_length
        max_len = {f: Member._meta.get_field(f).max_length for f in ("name", *_TEXT_FIELDS)}
        width = max(pos.values()) + 1
        pending: list[Member] = []
        written = skipped = rows_total = 0

        def value(row: list[str], field: str) -> str:
            i = pos.get(field)
            return row[i].strip() if i is not None else ""

        for line, row in source.rows():
            rows_total += 1
            if len(row) < width:
                row = row + [""] * (width - len(row))
            errors: list[tuple[str, str, str, str]] = []
            card = value(row, "card_no")
            phone = value(row, "phone")
            index = ""
            if phone:
                try:
                    index = crypto.phone_index(phone)
                except ValueError:
                    errors.append(("bad_phone", _("is not a phone number"), "phone", phone))
            if card:
                if card in known_cards:
                    skipped += 1
                    continue
                if card in file_cards:
                    errors.append(("duplicate_row", _("this card number is already on line %(line)d")
                                   % {"line": file_cards[card]}, "card_no", card))
                elif len(card) > max_card:
                    errors.append(("too_long", _("is longer than %(n)d characters") % {"n": max_card}, "card_no",
                                   card))
                file_cards.setdefault(card, line)
            elif index:
                if index in known_phones:
                    skipped += 1
                    continue
                if index in file_phones:
                    errors.append(("duplicate_row", _("a member with this phone and no card number is already on "
                                                      "line %(line)d") % {"line": file_phones[index]}, "phone", phone))
                file_phones.setdefault(index, line)
            elif not phone:
                errors.append(("missing_value", _("a member needs a card number or a phone number"), "card_no", ""))

            fields: dict = {"name": value(row, "name")}
            for field in _TEXT_FIELDS:
                fields[field] = value(row, field)
                if max_len[field] and len(fields[field]) > max_len[field]:
                    errors.append(("too_long", _("is longer than %(n)d characters") % {"n": max_len[field]}, field,
                                   fields[field]))
            if len(fields["name"]) > max_len["name"]:
                errors.append(("too_long", _("is longer than %(n)d characters") % {"n": max_len["name"]}, "name",
                               fields["name"]))
            fields["phone"] = phone
            gender = value(row, "gender")
            fields["gender"] = _GENDERS.get(gender.lower())
            if fields["gender"] is None:
                errors.append(("bad_gender", _("must be 男/女 or M/F"), "gender", gender))
            for field in _CONSENTS:
                try:
                    fields[field] = parse_bool(value(row, field))
                except BadValue as exc:
                    errors.append((exc.code, exc.message, field, value(row, field)))
            fields["birthday"] = None
            if text := value(row, "birthday"):
                try:
                    fields["birthday"] = parse_date(text)
                except BadValue as exc:
                    errors.append((exc.code, exc.message, "birthday", text))
            fields["birthday_calendar"] = BirthdayCalendar.SOLAR
            if text := value(row, "lunar_birthday"):
                lunar = _LUNAR.get(text.lower())
                if lunar is None:
                    try:
                        lunar = parse_bool(text)
                    except BadValue as exc:
                        errors.append((exc.code, exc.message, "lunar_birthday", text))
                if lunar:
                    fields["birthday_calendar"] = BirthdayCalendar.LUNAR
            if text := value(row, "home_store_code"):
                fields["home_store_id"] = stores.get(text)
                if fields["home_store_id"] is None:
                    errors.append(("unknown_store", _("no store has this code"), "home_store_code", text))
            if text := value(row, "account_manager_no"):
                fields["account_manager_id"] = staff_ids.get(text)
                if fields["account_manager_id"] is None:
                    errors.append(("unknown_staff", _("no staff member has this number"), "account_manager_no", text))
            enrolled_at = now
            if text := value(row, "enrolled_at"):
                try:
                    enrolled_at = parse_datetime(text, tz)
                except BadValue as exc:
                    errors.append((exc.code, exc.message, "enrolled_at", text))
            extra = {d.key: value(row, f"extra:{d.key}") for d in definitions if f"extra:{d.key}" in pos}
            fields["extra"] = {k: v for k, v in extra.items() if v}

            member = Member(card_no=card, enrolled_at=enrolled_at, source=MemberSource.IMPORT, **fields)
            try:
                member_validate(member)  # the member services' own rules
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    errors.append(("invalid", "; ".join(messages), field.removeprefix("extra."),
                                   str(fields.get(field, extra.get(field.removeprefix("extra."), "")) or "")))
            if errors:
                for code, message, column, text in errors:
                    log.add(line, code, message, column, text)
                continue
            if not member.card_no:
                member.card_no = _new_card_no(known_cards, file_cards)
                file_cards[member.card_no] = line
            if any(fields[f] for f in _CONSENTS):
                member.consent_updated_at = now
            member_refresh_derived(member, extra_keys=extra_keys, today=today)
            pending.append(member)
            if len(pending) >= self.chunk_size:
                Member.objects.bulk_create(pending)
                written += len(pending)
                pending.clear()
                log.end_chunk()
        if pending:
            Member.objects.bulk_create(pending)
            written += len(pending)
        report.rows_total = rows_total
        report.rows_written = written
        report.rows_skipped = skipped


def _new_card_no(known: set[str], in_file: dict[str, int]) -> str:
    """Like member_enroll's card numbers (12 digits starting with 8), checked against the cards
    read at the start and those of this file. A card enrolled at a till meanwhile with the same
    number (one chance in 10^11 per card) would fail the unique constraint and the whole batch."""
    while True:
        card_no = "8" + "".join(secrets.choice("0123456789") for _ in range(11))
        if card_no not in known and card_no not in in_file:
            return card_no
