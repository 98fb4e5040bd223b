"""When people shop: weekly rhythm, seasons and the festival peaks of a Chinese mall.

Each day of the demo period gets a weight (how busy the mall is) and a festival tag (which
categories sell better then). Spring Festival and Mid-Autumn move with the lunar calendar.
"""

import datetime
from functools import cache

from lunar_python import LunarYear

# Monthly seasonality, January first: December and the autumn festivals are strong, spring is quiet.
MONTH_FACTOR = [1.1, 0.9, 0.9, 0.85, 1.0, 1.05, 0.9, 0.9, 0.95, 1.1, 1.1, 1.2]
WEEKDAY_FACTOR = [0.85, 0.8, 0.85, 0.9, 1.15, 1.7, 1.6]  # Monday … Sunday

# Which categories a festival lifts (multiplies the member's usual preference).
FESTIVAL_BOOST = {
    "spring": {"jewellery": 3.0, "fashion": 1.5, "kids": 1.6, "dining": 1.4},
    "valentine": {"jewellery": 3.0, "cosmetics": 2.0, "dining": 1.5},
    "women": {"cosmetics": 2.5, "fashion": 1.5},
    "618": {"cosmetics": 2.0, "sports": 2.0, "home": 1.5},
    "midautumn": {"dining": 2.0, "jewellery": 1.5},
    "national": {"fashion": 1.5, "sports": 1.5, "kids": 1.5},
    "double11": {"cosmetics": 2.5, "fashion": 1.6, "home": 1.5},
    "christmas": {"dining": 1.5, "kids": 2.0, "cosmetics": 1.5, "jewellery": 1.5},
}
# Days of festival promotions carry member discounts in the demo receipts.
PROMOTION_TAGS = {"618", "double11", "spring", "women", "christmas"}


def lunar_to_solar(year: int, month: int, day: int) -> datetime.date:
    """The solar date of a lunar date (ordinary month); the 30th of a 29-day month gives the 29th."""
    table = _solar_of_lunar(year)
    return table.get((month, day)) or table[month, 29]


def _festival(day: datetime.date) -> tuple[float, str]:
    """Extra weight and tag of a day, from the festivals around it."""
    y = day.year
    new_year = lunar_to_solar(y, 1, 1)
    days_to_new_year = (new_year - day).days
    if 1 <= days_to_new_year <= 14:  # New Year shopping: gold, new clothes, gifts for the children
        return 1.0 + 1.5 * (15 - days_to_new_year) / 14, "spring"
    if 0 <= -days_to_new_year <= 2:  # the first days of the year: families stay home
        return 0.6, "spring"
    if 3 <= -days_to_new_year <= 7:
        return 1.5, "spring"
    mid_autumn = lunar_to_solar(y, 8, 15)
    if 0 <= (mid_autumn - day).days <= 7:
        return 1.8, "midautumn"
    qixi = lunar_to_solar(y, 7, 7)
    if day == qixi or (day.month, day.day) == (2, 14):
        return 2.0, "valentine"
    if (day.month, day.day) == (3, 8):
        return 1.8, "women"
    if day.month == 6 and day.day <= 18:  # 618: rising to the 18th
        return 1.0 + 2.0 * day.day / 18, "618"
    if day.month == 11 and day.day <= 11:  # Double 11: rising to the 11th
        return 1.0 + 2.5 * day.day / 11, "double11"
    if day.month == 10 and day.day <= 7:  # National Day golden week
        return 2.0, "national"
    if day.month == 12 and 20 <= day.day <= 25:
        return 2.5 if day.day == 24 else 1.8, "christmas"
    if (day.month, day.day) == (12, 31):
        return 1.5, ""
    return 1.0, ""


def day_weights(first: datetime.date, last: datetime.date) -> tuple[list[float], list[str]]:
    """For each day from `first` to `last` inclusive: how busy it is, and its festival tag."""
    weights, tags = [], []
    day = first
    while day <= last:
        boost, tag = _festival(day)
        weights.append(MONTH_FACTOR[day.month - 1] * WEEKDAY_FACTOR[day.weekday()] * boost)
        tags.append(tag)
        day += datetime.timedelta(days=1)
    return weights, tags


# lunar_python converts one solar date to the lunar calendar in about a millisecond; a table per
# lunar year (~5 ms each) makes the birthday keys of a million members affordable.
_JULIAN_DAY_OF_ORDINAL_ZERO = 1_721_425


@cache
def _lunar_year_table(year: int) -> dict[datetime.date, tuple[int, int]]:
    table = {}
    for month in LunarYear.fromYear(year).getMonths():
        if month.getYear() != year:
            continue
        first = datetime.date.fromordinal(month.getFirstJulianDay() - _JULIAN_DAY_OF_ORDINAL_ZERO)
        for day in range(month.getDayCount()):
            # a leap month counts as its ordinary month, as vipcare.members.birthdays does
            table[first + datetime.timedelta(days=day)] = (abs(month.getMonth()), day + 1, month.getMonth() < 0)
    return table


@cache
def _solar_of_lunar(year: int) -> dict[tuple[int, int], datetime.date]:
    return {(month, day): solar for solar, (month, day, leap) in _lunar_year_table(year).items() if not leap}


def lunar_month_day(day: datetime.date) -> tuple[int, int]:
    """Lunar (month, day) of a solar date; the same answer as birthdays.lunar_month_day, faster."""
    month, day, _leap = _lunar_year_table(day.year).get(day) or _lunar_year_table(day.year - 1)[day]
    return month, day


@cache
def celebration_in(year: int, kind: str, month: int, day: int) -> datetime.date:
    """The solar date in `year` when a birthday celebrated on (kind, month, day) falls."""
    if kind == "S":
        if month == 2 and day == 29 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
            return datetime.date(year, 2, 28)
        return datetime.date(year, month, day)
    for lunar_year in (year, year - 1):
        solar = lunar_to_solar(lunar_year, month, day)
        if solar.year == year:
            return solar
    return lunar_to_solar(year, month, day)
