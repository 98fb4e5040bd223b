"""The days care messages are sent on: Chinese festivals (lunar), chosen public days, and the
four solar terms that start a season (立春, 立夏, 立秋, 立冬). Pure functions of a date.

Lunar dates come from lunar_python, so they are right for any year; in a leap month no festival
falls (the festival belongs to the ordinary month).
"""

import dataclasses
import datetime

from lunar_python import Lunar, Solar


@dataclasses.dataclass(frozen=True)
class Festival:
    key: str
    name: str  # Chinese name, used in messages


# (lunar month, lunar day) → festival
LUNAR_FESTIVALS = {
    (1, 1): Festival("spring_festival", "春节"),
    (1, 15): Festival("lantern", "元宵节"),
    (5, 5): Festival("dragon_boat", "端午节"),
    (7, 7): Festival("qixi", "七夕"),
    (8, 15): Festival("mid_autumn", "中秋节"),
    (9, 9): Festival("double_ninth", "重阳节"),
}
NEW_YEARS_EVE = Festival("new_years_eve", "除夕")
FIXED_DAYS = {
    (1, 1): Festival("new_year", "元旦"),
    (3, 8): Festival("womens_day", "妇女节"),
    (9, 10): Festival("teachers_day", "教师节"),
    (10, 1): Festival("national_day", "国庆节"),
}
MOTHERS_DAY = Festival("mothers_day", "母亲节")  # second Sunday of May
FATHERS_DAY = Festival("fathers_day", "父亲节")  # third Sunday of June

ALL_FESTIVALS = [*LUNAR_FESTIVALS.values(), NEW_YEARS_EVE, *FIXED_DAYS.values(), MOTHERS_DAY, FATHERS_DAY]

SEASON_TERMS = {"立春": "spring", "立夏": "summer", "立秋": "autumn", "立冬": "winter"}


def _nth_sunday(year: int, month: int, n: int) -> datetime.date:
    first = datetime.date(year, month, 1)
    return first + datetime.timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


def festivals_on(day: datetime.date) -> list[Festival]:
    """Every festival and public day that falls on `day`."""
    found = []
    lunar = Solar.fromYmd(day.year, day.month, day.day).getLunar()
    if lunar.getMonth() > 0 and (lunar.getMonth(), lunar.getDay()) in LUNAR_FESTIVALS:
        found.append(LUNAR_FESTIVALS[(lunar.getMonth(), lunar.getDay())])
    tomorrow = Solar.fromYmd(day.year, day.month, day.day).next(1).getLunar()
    if tomorrow.getMonth() == 1 and tomorrow.getDay() == 1:
        found.append(NEW_YEARS_EVE)
    if (day.month, day.day) in FIXED_DAYS:
        found.append(FIXED_DAYS[(day.month, day.day)])
    if day == _nth_sunday(day.year, 5, 2):
        found.append(MOTHERS_DAY)
    if day == _nth_sunday(day.year, 6, 3):
        found.append(FATHERS_DAY)
    return found


def season_start_on(day: datetime.date) -> tuple[str, str] | None:
    """(season, term name) when `day` is 立春/立夏/立秋/立冬, else None."""
    term = Solar.fromYmd(day.year, day.month, day.day).getLunar().getJieQi()
    return (SEASON_TERMS[term], term) if term in SEASON_TERMS else None


def lunar_to_solar(lunar_year: int, month: int, day: int) -> datetime.date:
    solar = Lunar.fromYmd(lunar_year, month, day).getSolar()
    return datetime.date(solar.getYear(), solar.getMonth(), solar.getDay())


def festival_dates(year: int) -> dict[str, datetime.date]:
    """Solar dates of every festival in a solar year (for the yearly plan)."""
    dates = {}
    day = datetime.date(year, 1, 1)
    while day.year == year:
        for festival in festivals_on(day):
            dates.setdefault(festival.key, day)
        day += datetime.timedelta(days=1)
    return dates


def season_dates(year: int) -> dict[str, datetime.date]:
    table = Lunar.fromYmd(year, 6, 1).getJieQiTable()
    out = {}
    for term, season in SEASON_TERMS.items():
        for name, solar in table.items():
            if name == term and solar.getYear() == year:
                out[season] = datetime.date(solar.getYear(), solar.getMonth(), solar.getDay())
    return out
