import datetime
import zoneinfo

from vipcare.loyalty import tiers
from vipcare.loyalty.choices import DowngradeMode, TierWindow
from vipcare.loyalty.tiers import Rung

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
LADDER = [Rung(1, 1, 200000, 100000), Rung(2, 2, 500000), Rung(3, 3, 1000000), Rung(4, 4, 2000000)]
ORDINARY, SILVER, GOLD, DIAMOND = LADDER


def test_supported_rung_by_quarterly_spend():
    assert tiers.supported_rung(LADDER, 199999) is None
    assert tiers.supported_rung(LADDER, 200000) == ORDINARY
    assert tiers.supported_rung(LADDER, 999999) == SILVER
    assert tiers.supported_rung(LADDER, 2500000) == DIAMOND


def test_supported_rung_by_single_purchase():
    assert tiers.supported_rung(LADDER, 100000, single_purchase_fen=100000) == ORDINARY
    assert tiers.supported_rung(LADDER, 99999, single_purchase_fen=99999) is None


def test_quarter_bounds():
    assert tiers.quarter_start(datetime.date(2026, 5, 17)) == datetime.date(2026, 4, 1)
    assert tiers.next_quarter_start(datetime.date(2026, 11, 2)) == datetime.date(2027, 1, 1)
    assert tiers.previous_quarter_start(datetime.date(2026, 2, 2)) == datetime.date(2025, 10, 1)


def test_current_window_is_the_local_quarter_so_far():
    # 31 March 20:00 UTC is already 1 April in Shanghai: the second quarter
    at = datetime.datetime(2026, 3, 31, 20, 0, tzinfo=datetime.UTC)
    start, end = tiers.current_window(TierWindow.CALENDAR_QUARTER, 90, at, SHANGHAI)
    assert start == datetime.datetime(2026, 4, 1, tzinfo=SHANGHAI)
    assert end > at


def test_review_windows_look_at_last_quarter_and_this_one():
    at = datetime.datetime(2026, 4, 2, 3, 0, tzinfo=SHANGHAI)
    (prev_start, prev_end), (cur_start, _) = tiers.review_windows(TierWindow.CALENDAR_QUARTER, 90, at, SHANGHAI)
    assert prev_start == datetime.datetime(2026, 1, 1, tzinfo=SHANGHAI)
    assert prev_end == cur_start == datetime.datetime(2026, 4, 1, tzinfo=SHANGHAI)
    [(start, end)] = tiers.review_windows(TierWindow.ROLLING_DAYS, 30, at, SHANGHAI)
    assert end - start > datetime.timedelta(days=30) - datetime.timedelta(seconds=1)


def test_review_target_by_downgrade_mode():
    assert tiers.review_target(LADDER, DIAMOND, ORDINARY, DowngradeMode.NONE) == DIAMOND
    assert tiers.review_target(LADDER, DIAMOND, ORDINARY, DowngradeMode.ONE_STEP) == GOLD
    assert tiers.review_target(LADDER, DIAMOND, ORDINARY, DowngradeMode.TO_SUPPORTED) == ORDINARY
    assert tiers.review_target(LADDER, ORDINARY, None, DowngradeMode.ONE_STEP) is None
    # one step never goes below what the window supports, and upgrades always happen
    assert tiers.review_target(LADDER, DIAMOND, GOLD, DowngradeMode.ONE_STEP) == GOLD
    assert tiers.review_target(LADDER, SILVER, GOLD, DowngradeMode.NONE) == GOLD


def test_progress_gap_to_the_next_level():
    result = tiers.progress(LADDER, SILVER, 880000)
    assert result.next == GOLD and result.gap == 120000
    assert tiers.progress(LADDER, None, 0).next == ORDINARY
    assert tiers.progress(LADDER, DIAMOND, 0).next is None
