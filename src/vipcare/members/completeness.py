"""Profile completeness (档案完整度) by quantity and quality.

Quantity: the share of archive fields that are filled at all.
Quality: the share that are filled with something usable — a valid mobile number, a plausible
birthday, an address down to the street, a real name rather than "王先生", soft-archive notes
that say something ("无", "不详" or a single character say nothing). The documents ask staff to
be ranked on both (顾客档案评比: 最完整、最有效).
"""

import datetime
import re

HARD_FIELDS = ["name", "gender", "birthday", "phone", "email", "address", "size_top", "size_bottom", "size_shoe"]
EMPTY_WORDS = {"无", "不详", "未知", "没有", "暂无", "na", "n/a", "none", "-", "/", "unknown", "x"}
PLACEHOLDER_NAME = re.compile(r"^.{1,2}(先生|女士|小姐|太太)$|^(顾客|客人|会员)\d*$")
MOBILE = re.compile(r"^1[3-9]\d{9}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def _filled(value) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip() != ""
    return True


def _good(field: str, value, today: datetime.date) -> bool:
    if not _filled(value):
        return False
    if field == "name":
        return len(value.strip()) >= 2 and not PLACEHOLDER_NAME.match(value.strip())
    if field == "gender":
        return value in ("F", "M")
    if field == "birthday":
        age = today.year - value.year
        return 10 <= age <= 100
    if field == "phone":
        digits = re.sub(r"\D", "", value)
        return bool(MOBILE.match(digits[-11:])) if len(digits) >= 11 else False
    if field == "email":
        return bool(EMAIL.match(value.strip()))
    if field == "address":
        return len(value.strip()) >= 8  # city + district + street at least
    if isinstance(value, str):
        text = value.strip()
        return text.lower() not in EMPTY_WORDS and len(text) >= (1 if field.startswith("size_") else 2)
    return True


def completeness(values: dict, soft_fields: list[str], extra_keys: list[str], today: datetime.date) -> tuple[int, int]:
    """(quantity, quality), each 0–100, for a member's field values.

    `values` maps field names (hard, soft, and extra keys) to their values.
    """
    fields = HARD_FIELDS + soft_fields + extra_keys
    filled = sum(1 for f in fields if _filled(values.get(f)))
    good = sum(1 for f in fields if _good(f, values.get(f), today))
    return round(100 * filled / len(fields)), round(100 * good / len(fields))
