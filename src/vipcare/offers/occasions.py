"""Occasions that give a member something — pure functions over dates.

- The birthday benefit applies on the birthday the member celebrates (solar, or lunar per the
  profile: `vipcare.members.birthdays`), or — as the policy says — anywhere in the week
  (Monday to Sunday) or the calendar month in which that celebration falls.
- A member day (会员日) falls on a day of the month or a day of the week; when several fall on
  the same day, the highest discount applies (they do not stack).
"""

import calendar
import datetime
from collections.abc import Iterable
from decimal import Decimal

from vipcare.members.birthdays import next_celebration
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
    """Does the member celebrate a birthday in `day`'s window?"""
    if birthday is None:
        return False
    first, last = birthday_window(day, window)
    return next_celebration(birthday, birthday_calendar, first) <= last


def best_percent(percents: Iterable[Decimal]) -> Decimal:
    return max(percents, default=Decimal(0))
