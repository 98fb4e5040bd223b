"""Pure calendar rules over whole years: festivals and season starts land on the right solar days."""

import datetime

import pytest

from vipcare.care import festivals, rules


def days_of(year):
    day = datetime.date(year, 1, 1)
    while day.year == year:
        yield day
        day += datetime.timedelta(days=1)


@pytest.mark.parametrize(("year", "expected"), [
    (2026, {"spring_festival": "2026-02-17", "lantern": "2026-03-03", "dragon_boat": "2026-06-19",
            "qixi": "2026-08-19", "mid_autumn": "2026-09-25", "double_ninth": "2026-10-18",
            "mothers_day": "2026-05-10", "fathers_day": "2026-06-21", "womens_day": "2026-03-08"}),
    (2027, {"spring_festival": "2027-02-06", "mid_autumn": "2027-09-15", "dragon_boat": "2027-06-09"}),
])
def test_festivals_land_on_their_solar_dates_and_only_there(year, expected):
    seen: dict[str, list[str]] = {}
    for day in days_of(year):
        for festival in festivals.festivals_on(day):
            seen.setdefault(festival.key, []).append(day.isoformat())
    for key, date in expected.items():
        assert seen[key] == [date], key
    assert all(len(v) == 1 for v in seen.values())  # each festival exactly once a year


def test_season_starts_are_the_four_li_terms_once_each():
    found = [(d, festivals.season_start_on(d)) for d in days_of(2026) if festivals.season_start_on(d)]
    assert [(d.isoformat(), s) for d, s in found] == [
        ("2026-02-04", ("spring", "立春")), ("2026-05-05", ("summer", "立夏")),
        ("2026-08-07", ("autumn", "立秋")), ("2026-11-07", ("winter", "立冬"))]


def test_quiet_hours_move_night_messages_to_the_morning():
    tz = datetime.timezone(datetime.timedelta(hours=8))
    start, end = datetime.time(21), datetime.time(9)
    late = datetime.datetime(2026, 3, 8, 22, 15, tzinfo=tz)
    early = datetime.datetime(2026, 3, 9, 6, 0, tzinfo=tz)
    noon = datetime.datetime(2026, 3, 9, 12, 0, tzinfo=tz)
    assert rules.after_quiet_hours(late, start, end) == datetime.datetime(2026, 3, 9, 9, 0, tzinfo=tz)
    assert rules.after_quiet_hours(early, start, end) == datetime.datetime(2026, 3, 9, 9, 0, tzinfo=tz)
    assert rules.after_quiet_hours(noon, start, end) == noon


def test_falling_off_rule_compares_a_regular_with_their_own_pace():
    assert rules.falling_off(visits_last_year=24, visits_last_90_days=1)[0] is True
    assert rules.falling_off(visits_last_year=24, visits_last_90_days=5)[0] is False
    assert rules.falling_off(visits_last_year=3, visits_last_90_days=0)[0] is False  # not a regular


def test_default_care_templates_contain_no_sales_words_and_never_ask_what_happened():
    from vipcare.care.defaults import HOLIDAY_WISHES, PLAYBOOKS, SEASON_WISHES
    from vipcare.care.models import DEFAULT_SALES_WORDS

    words = DEFAULT_SALES_WORDS.split()
    care = [p["template"] for p in PLAYBOOKS if p["kind"] in {"birthday", "holiday", "season", "miss_you",
                                                                "thank_you"}]
    for text in [*care, *HOLIDAY_WISHES.values(), *SEASON_WISHES.values()]:
        assert rules.sales_words_in(text, words) == [], text
        assert "发生" not in text and "怎么了" not in text
