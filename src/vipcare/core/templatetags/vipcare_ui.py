"""Small filters for the staff screens: money in yuan from fen, how to greet a member."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()

# Two-character surnames (复姓) that are common enough to matter when greeting.
COMPOUND_SURNAMES = {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文",
                     "司徒", "夏侯", "轩辕", "端木", "南宫", "独孤"}


@register.filter
def yuan(fen) -> str:
    """12345 fen → "¥123.45" (integer arithmetic; never a float)."""
    if fen is None or fen == "":
        return "—"
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"  # ¥1,299.50 in both languages


def surname(name: str) -> str:
    name = (name or "").strip()
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2]
    return name[:1]


@register.filter
def salutation(member) -> str:
    """How staff greet the member: 李女士 / 王先生; the full name when the gender is unknown."""
    family = surname(member.name)
    if not family or not "\u4e00" <= family[0] <= "\u9fff":
        return member.name
    if member.gender == "F":
        return _("Ms %(surname)s") % {"surname": family}
    if member.gender == "M":
        return _("Mr %(surname)s") % {"surname": family}
    return member.name


@register.filter
def percent_class(value) -> str:
    """A colour class for a 0–100 score bar."""
    value = int(value or 0)
    return "good" if value >= 70 else "fair" if value >= 40 else "poor"
