"""Solar and lunar birthdays (生日 / 农历生日).

A member's birth date is stored as the real (solar) date. Members who celebrate the lunar
birthday celebrate the lunar month and day of that date, which falls on a different solar day
each year; lunar_python does the conversion.
"""

import datetime

from lunar_python import Lunar, Solar

from vipcare.core.crypto import blind_index


def lunar_month_day(solar_date: datetime.date) -> tuple[int, int]:
    """Lunar (month, day) of a solar date; a leap month counts as its ordinary month."""
    lunar = Solar.fromYmd(solar_date.year, solar_date.month, solar_date.day).getLunar()
    return abs(lunar.getMonth()), lunar.getDay()


def celebrated_month_day(birthday: datetime.date, calendar: str) -> tuple[str, int, int]:
    if calendar == "lunar":
        month, day = lunar_month_day(birthday)
        return "L", month, day
    return "S", birthday.month, birthday.day


def birthday_key(birthday: datetime.date | None, calendar: str) -> str:
    if birthday is None:
        return ""
    kind, month, day = celebrated_month_day(birthday, calendar)
    return blind_index("birthday", f"{kind}-{month:02d}-{day:02d}")


def birthday_keys_on(day: datetime.date) -> list[str]:
    """The birthday keys of every member who celebrates on `day`.

    Solar 29 February is celebrated on 28 February in other years; a lunar 30th on the 29th
    in a month that has only 29 days.
    """
    keys = [blind_index("birthday", f"S-{day.month:02d}-{day.day:02d}")]
    if day.month == 2 and day.day == 28 and not _is_leap(day.year):
        keys.append(blind_index("birthday", "S-02-29"))
    lunar = Solar.fromYmd(day.year, day.month, day.day).getLunar()
    month = lunar.getMonth()
    if month > 0:  # in a leap month nobody's ordinary lunar birthday falls
        keys.append(blind_index("birthday", f"L-{month:02d}-{lunar.getDay():02d}"))
        if lunar.getDay() == 29 and Lunar.fromYmd(lunar.getYear(), month, 29).next(1).getDay() == 1:
            keys.append(blind_index("birthday", f"L-{month:02d}-30"))
    return keys


def next_celebration(birthday: datetime.date, calendar: str, today: datetime.date) -> datetime.date:
    """The solar date of the next birthday celebration on or after `today`."""
    kind, month, day = celebrated_month_day(birthday, calendar)
    for year in (today.year, today.year + 1):
        if kind == "S":
            if month == 2 and day == 29 and not _is_leap(year):
                candidate = datetime.date(year, 2, 28)
            else:
                candidate = datetime.date(year, month, day)
            if candidate >= today:
                return candidate
        else:
            # The lunar year that starts in solar `year - 1` may still be running in January.
            for lunar_year in (year - 1, year):
                candidate = _lunar_to_solar(lunar_year, month, day)
                if candidate >= today:
                    return candidate
    raise AssertionError("a birthday falls within two years")


def _lunar_to_solar(lunar_year: int, month: int, day: int) -> datetime.date:
    try:
        solar = Lunar.fromYmd(lunar_year, month, day).getSolar()
    except Exception:  # the 30th in a 29-day month: celebrate on the 29th
        solar = Lunar.fromYmd(lunar_year, month, 29).getSolar()
    return datetime.date(solar.getYear(), solar.getMonth(), solar.getDay())


def age_on(birthday: datetime.date, today: datetime.date) -> int:
    return today.year - birthday.year - ((today.month, today.day) < (birthday.month, birthday.day))


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
