"""Level rules as pure functions: which level a window's figures support, what a review does,
and how far the member is from the next level. No database here; services feed the figures in."""

import dataclasses
import datetime

from vipcare.loyalty.choices import DowngradeMode, TierWindow


@dataclasses.dataclass(frozen=True)
class Rung:
    """What the rules need to know about a level."""

    id: int
    rank: int
    threshold: int  # spend in fen, or points, depending on the policy's basis
    single_purchase_fen: int | None = None


def quarter_start(day: datetime.date) -> datetime.date:
    return datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def next_quarter_start(day: datetime.date) -> datetime.date:
    start = quarter_start(day)
    return datetime.date(start.year + (start.month == 10), (start.month + 2) % 12 + 1, 1)


def previous_quarter_start(day: datetime.date) -> datetime.date:
    return quarter_start(quarter_start(day) - datetime.timedelta(days=1))


def _local_midnight(day: datetime.date, tz: datetime.tzinfo) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)


def current_window(window: str, rolling_days: int, at: datetime.datetime, tz: datetime.tzinfo
                   ) -> tuple[datetime.datetime, datetime.datetime]:
    """[start, end) of the window that contains `at`: its calendar quarter (local time) so far,
    or the `rolling_days` before it."""
    if window == TierWindow.CALENDAR_QUARTER:
        return _local_midnight(quarter_start(at.astimezone(tz).date()), tz), at + datetime.timedelta(microseconds=1)
    return at - datetime.timedelta(days=rolling_days), at + datetime.timedelta(microseconds=1)


def review_windows(window: str, rolling_days: int, at: datetime.datetime, tz: datetime.tzinfo
                   ) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """The windows a review looks at. For calendar quarters: the last complete quarter and the
    current one so far, so a review early in a quarter does not punish a member for a quarter
    that has only just begun. For a rolling window: the days before `at`."""
    if window == TierWindow.CALENDAR_QUARTER:
        today = at.astimezone(tz).date()
        this_start = quarter_start(today)
        previous = (_local_midnight(previous_quarter_start(today), tz), _local_midnight(this_start, tz))
        return [previous, current_window(window, rolling_days, at, tz)]
    return [current_window(window, rolling_days, at, tz)]


def supported_rung(ladder: list[Rung], value: int, *, single_purchase_fen: int | None = None) -> Rung | None:
    """The highest level the window's value (or one purchase in it) earns; None below the first."""
    best = None
    for rung in ladder:
        by_value = value >= rung.threshold
        by_purchase = (rung.single_purchase_fen is not None and single_purchase_fen is not None
                       and single_purchase_fen >= rung.single_purchase_fen)
        if (by_value or by_purchase) and (best is None or rung.rank > best.rank):
            best = rung
    return best


def _rank(rung: Rung | None) -> int:
    return rung.rank if rung is not None else 0


def review_target(ladder: list[Rung], current: Rung | None, supported: Rung | None, mode: str) -> Rung | None:
    """Where a review takes a member whose window supports `supported` while holding `current`.

    Upgrades always happen; downgrades follow the mode (the grace period is the caller's)."""
    if _rank(supported) >= _rank(current):
        return supported
    if mode == DowngradeMode.NONE:
        return current
    if mode == DowngradeMode.TO_SUPPORTED:
        return supported
    below = [r for r in ladder if r.rank < _rank(current)]
    one_down = max(below, key=lambda r: r.rank) if below else None
    return one_down if _rank(one_down) >= _rank(supported) else supported


@dataclasses.dataclass(frozen=True)
class Progress:
    current: Rung | None
    next: Rung | None
    value: int
    gap: int  # how much more the window needs for `next`; 0 at the top


def progress(ladder: list[Rung], current: Rung | None, value: int) -> Progress:
    """Distance from the window's value to the first level above the member's current one."""
    above = sorted((r for r in ladder if r.rank > _rank(current)), key=lambda r: r.rank)
    if not above:
        return Progress(current, None, value, 0)
    target = above[0]
    return Progress(current, target, value, max(0, target.threshold - value))
