"""Occasions that give a member something — pure functions over dates.

- The birthday benefit applies on the birthday the member celebrates (solar, or lunar per the
  profile: `vipcare.members.birthdays`), or — as the policy says — anywhere in the week
  (Monday to Sunday) or the calendar month in which that celebration falls.
- A member day (会员日) falls on a day of the month or a day of the week; when several fall on
  the same day, the highest discount applies (they do not stack).
"""

import calendar
import datetime
import functools
from collections.abc import Iterable
from decimal import Decimal

from vipcare.members.birthdays import birthday_keys_on, next_celebration
from vipcare.offers.choices import BirthdayWindow


def birthday_window(day: datetime.date, window: str) -> tuple[datetime.date, datetime.date]:
    """[first, last] day of the window around `day` in which a celebration counts."""
    if window == BirthdayWindow.WEEK:
        monday = day - datetime.timedelta(days=day.weekday())
        return monday, monday + datetime.timedelta(days=6)
    if window == BirthdayWindow.MONTH:
        return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])
    return day, day


def in_birthday_window(birthday: datetime.date | None, birthday_calendar: str, day: datetime.date,
                       window: str) -> bool:
    """Does someone born on `birthday` (celebrated by that calendar) celebrate in `day`'s window?"""
    if birthday is None:
        return False
    first, last = birthday_window(day, window)
    return next_celebration(birthday, birthday_calendar, first) <= last


@functools.lru_cache(maxsize=16)
def _keys_between(first: datetime.date, last: datetime.date) -> frozenset[str]:
    days = (first + datetime.timedelta(days=n) for n in range((last - first).days + 1))
    return frozenset(key for day in days for key in birthday_keys_on(day))


def member_in_birthday_window(birthday_key: str, day: datetime.date, window: str) -> bool:
    """The same question for a member, by the keyed hash of the day they celebrate
    (`Member.birthday_key`): no birthday decrypted, no lunar date converted per member — the till
    asks it on every checkout. Agrees with `in_birthday_window` (tests/offers/test_pricing.py)."""
    return bool(birthday_key) and birthday_key in _keys_between(*birthday_window(day, window))


def best_percent(percents: Iterable[Decimal]) -> Decimal:
    return max(percents, default=Decimal(0))
