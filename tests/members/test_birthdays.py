import datetime

import pytest

from vipcare.members import birthdays
from vipcare.members.services import member_enroll


def test_lunar_month_day_of_a_mid_autumn_birth():
    # 1990-10-03 was the 15th day of the 8th lunar month (中秋)
    assert birthdays.lunar_month_day(datetime.date(1990, 10, 3)) == (8, 15)


@pytest.mark.parametrize(
    "year, expected",
    [(2025, datetime.date(2025, 10, 6)), (2026, datetime.date(2026, 9, 25)), (2027, datetime.date(2027, 9, 15))],
)
def test_lunar_birthday_falls_on_mid_autumn_each_year(year, expected):
    born = datetime.date(1990, 10, 3)
    assert birthdays.next_celebration(born, "lunar", datetime.date(year, 1, 1)) == expected


def test_solar_birthday_next_celebration_rolls_to_next_year():
    born = datetime.date(1985, 3, 8)
    assert birthdays.next_celebration(born, "solar", datetime.date(2026, 3, 9)) == datetime.date(2027, 3, 8)
    assert birthdays.next_celebration(born, "solar", datetime.date(2026, 3, 8)) == datetime.date(2026, 3, 8)


def test_leap_day_birthday_is_celebrated_on_28_february():
    born = datetime.date(1996, 2, 29)
    assert birthdays.next_celebration(born, "solar", datetime.date(2026, 1, 1)) == datetime.date(2026, 2, 28)
    assert birthdays.birthday_key(born, "solar") in birthdays.birthday_keys_on(datetime.date(2026, 2, 28))
    assert birthdays.birthday_key(born, "solar") not in birthdays.birthday_keys_on(datetime.date(2028, 2, 28))


def test_birthday_keys_find_solar_and_lunar_members(db):
    # given one member who celebrates 3 October by the solar calendar, one the lunar 15/8
    solar = member_enroll(name="国庆", birthday=datetime.date(1990, 10, 3), birthday_calendar="solar")
    lunar = member_enroll(name="中秋", birthday=datetime.date(1990, 10, 3), birthday_calendar="lunar")
    # when we ask whose birthday it is on 2026-09-25 (lunar 8/15) and 2026-10-03
    mid_autumn = set(birthdays.birthday_keys_on(datetime.date(2026, 9, 25)))
    national_day = set(birthdays.birthday_keys_on(datetime.date(2026, 10, 3)))
    # then each is found on their own day only
    assert lunar.birthday_key in mid_autumn and solar.birthday_key not in mid_autumn
    assert solar.birthday_key in national_day and lunar.birthday_key not in national_day


def test_age_on():
    assert birthdays.age_on(datetime.date(1990, 10, 3), datetime.date(2026, 10, 2)) == 35
    assert birthdays.age_on(datetime.date(1990, 10, 3), datetime.date(2026, 10, 3)) == 36
