"""The day's run, time-travelled over a whole year with a handful of members."""

import datetime
from collections import Counter, defaultdict

import pytest
from django.utils import timezone

from tests import factories
from tests.care.conftest import give_tier
from vipcare.care.choices import TaskStatus
from vipcare.care.models import CareSettings, CareTask, Message, Occasion, Playbook
from vipcare.care.playbooks.engine import care_day_generate

YEAR = [datetime.date(2026, 1, 1) + datetime.timedelta(days=i) for i in range(365)]


@pytest.fixture
def cast(vip, store, account_manager, tiers):
    lunar = factories.member(name="王芳", phone="13900001111", home_store=store, gender="F",
                             birthday=datetime.date(1990, 10, 3), birthday_calendar="lunar", consent_wechat=True,
                             account_manager=account_manager)  # lunar 八月十五
    silent = factories.member(name="赵强", phone="13700002222", home_store=store, gender="M",
                              birthday=datetime.date(1980, 5, 5))  # consents to nothing
    give_tier(silent, tiers[3])
    return {"vip": vip, "lunar": lunar, "silent": silent}


def local(dt):
    return timezone.localtime(dt)


def test_a_year_of_calendar_messages_lands_on_the_right_days_with_consent_caps_and_quiet_hours(cast):
    # given a weekly cap of two SMS
    CareSettings.objects.filter(pk=1).update(weekly_caps={"sms": 2, "wechat": 2})
    # when every day of 2026 is run
    for day in YEAR:
        care_day_generate(day=day, kinds=["birthday", "holiday", "season"])
    messages = list(Message.objects.select_related("playbook"))
    by = defaultdict(list)
    for m in messages:
        by[(m.member_id, m.playbook.kind)].append(local(m.scheduled_at).date().isoformat())
    vip, lunar, silent = cast["vip"].pk, cast["lunar"].pk, cast["silent"].pk
    # then birthdays fall on the day (solar 3-08; lunar 八月十五 = Mid-Autumn 2026 = 09-25)
    assert by[(vip, "birthday")] == ["2026-03-08"]
    assert by[(lunar, "birthday")] == ["2026-09-25"]
    # and greetings only on the chosen festivals and the four season starts
    # (National Day is capped: the birthday and Mid-Autumn fell six days before)
    assert sorted(by[(lunar, "holiday")]) == ["2026-01-01", "2026-02-17", "2026-03-03", "2026-03-08", "2026-05-10",
                                              "2026-06-19", "2026-08-19", "2026-09-25", "2026-10-18"]
    assert sorted(by[(lunar, "season")]) == ["2026-02-04", "2026-05-05", "2026-08-07", "2026-11-07"]
    assert "2026-09-25" in by[(vip, "holiday")]
    # and nobody without consent gets anything; each goes on a channel they consented to
    assert not [m for m in messages if m.member_id == silent]
    assert {m.channel for m in messages if m.member_id == lunar} == {"wechat"}
    assert {m.channel for m in messages if m.member_id == vip} == {"sms"}
    # and no 7-day window holds more than the cap, nothing is scheduled in quiet hours
    for member_id in (vip, lunar):
        days = sorted(local(m.scheduled_at).date() for m in messages if m.member_id == member_id)
        for i, first in enumerate(days):
            assert sum(1 for d in days[i:] if (d - first).days < 7) <= 2
    assert all(datetime.time(9) <= local(m.scheduled_at).time() < datetime.time(21) for m in messages)
    # and re-running days adds nothing
    before = Message.objects.count()
    for day in (datetime.date(2026, 3, 8), datetime.date(2026, 9, 25), datetime.date(2026, 11, 7)):
        assert care_day_generate(day=day).messages["birthday"] == 0
        care_day_generate(day=day, kinds=["birthday", "holiday", "season"])
    assert Message.objects.count() == before


def test_the_cap_holds_when_a_birthday_falls_on_a_festival(cast):
    CareSettings.objects.filter(pk=1).update(weekly_caps={"sms": 1})
    report = care_day_generate(day=datetime.date(2026, 3, 8), kinds=["birthday", "holiday"])
    assert Message.objects.filter(member=cast["vip"]).count() == 1
    assert report.skipped["cap"] == 1


def test_regular_calls_come_every_month_for_top_levels_and_every_quarter_for_silver(cast, tiers, store,
                                                                                   account_manager):
    silver = factories.member(name="孙丽", home_store=store, gender="F", consent_phone=True,
                              account_manager=account_manager)
    give_tier(silver, tiers[1])
    for day in YEAR:
        care_day_generate(day=day, kinds=["regular_call"])
    calls = Counter(CareTask.objects.filter(playbook__kind="regular_call").values_list("member_id", flat=True))
    assert calls[cast["vip"].pk] == 12 and calls[silver.pk] == 4
    assert cast["silent"].pk not in calls  # no phone consent
    due = [t.due_on for t in CareTask.objects.filter(member=cast["vip"], playbook__kind="regular_call")]
    assert {d.day for d in due} == {cast["vip"].pk % 28 + 1}  # always the member's day of the month
    assert all(t.assignee_id == account_manager.pk for t in CareTask.objects.filter(member=cast["vip"]))


def test_director_contacts_top_vips_once_a_quarter_through_the_store_manager(cast, store_manager):
    for day in YEAR:
        care_day_generate(day=day, kinds=["director_contact"])
    tasks = CareTask.objects.filter(playbook__kind="director_contact", member=cast["vip"])
    assert sorted({(t.due_on.month - 1) // 3 for t in tasks}) == [0, 1, 2, 3] and tasks.count() == 4
    assert {t.assignee_id for t in tasks} == {store_manager.pk}


def test_new_member_call_one_week_after_first_purchase_and_monday_list(store, account_manager):
    member = factories.member(name="周敏", home_store=store, gender="F", consent_phone=True,
                              account_manager=account_manager)
    tz = timezone.get_current_timezone()
    factories.sale(member, store, 30000, sold_at=datetime.datetime(2026, 3, 2, 15, tzinfo=tz))
    factories.sale(member, store, 30000, sold_at=datetime.datetime(2026, 3, 5, 15, tzinfo=tz))
    fired = [day for day in YEAR[55:75] if care_day_generate(day=day, kinds=["new_member_call"]).tasks]
    assert fired == [datetime.date(2026, 3, 9)]
    task = CareTask.objects.get(playbook__kind="new_member_call")
    assert "周女士" in task.script and "王导购" in task.script and "衣恋" in task.script
    # the Monday list picks members enrolled in the week before
    from vipcare.members.models import Member

    Member.objects.filter(pk=member.pk).update(enrolled_at=datetime.datetime(2026, 3, 4, 12, tzinfo=tz))
    assert not care_day_generate(day=datetime.date(2026, 3, 10), kinds=["new_member_weekly"]).tasks
    assert care_day_generate(day=datetime.date(2026, 3, 9), kinds=["new_member_weekly"]).tasks["new_member_weekly"] == 1


def test_miss_you_at_most_weekly_and_falling_off_call_with_its_reason(vip, store):
    tz = timezone.get_current_timezone()
    # a regular: twice a month for a year, then nothing since December 2025
    for month in range(1, 13):
        for day in (3, 17):
            factories.sale(vip, store, 20000, sold_at=datetime.datetime(2025, month, day, 14, tzinfo=tz))
    days = [datetime.date(2026, 3, 1) + datetime.timedelta(days=i) for i in range(60)]
    for day in days:
        care_day_generate(day=day, kinds=["miss_you", "falling_off"])
    miss = sorted(local(m.scheduled_at).date() for m in Message.objects.filter(playbook__kind="miss_you"))
    assert miss and all((b - a).days >= 7 for a, b in zip(miss, miss[1:], strict=False))
    assert all(d.weekday() == vip.pk % 7 for d in miss)
    calls = CareTask.objects.filter(playbook__kind="falling_off")
    assert calls.count() == 2  # March and April: at most once a month
    assert "近90天到店" in calls.first().reason


def test_thank_you_after_the_visit_delay_and_never_at_night(vip, store):
    tz = timezone.get_current_timezone()
    factories.sale(vip, store, 20000, sold_at=datetime.datetime(2026, 4, 2, 14, 0, tzinfo=tz))
    late = factories.member(name="钱多", home_store=store, consent_sms=True, gender="M")
    factories.sale(late, store, 20000, sold_at=datetime.datetime(2026, 4, 2, 20, 50, tzinfo=tz))
    care_day_generate(day=datetime.date(2026, 4, 2), kinds=["thank_you"])
    times = {m.member_id: local(m.scheduled_at) for m in Message.objects.all()}
    assert times[vip.pk] == datetime.datetime(2026, 4, 2, 14, 30, tzinfo=tz)
    assert times[late.pk] == datetime.datetime(2026, 4, 3, 9, 0, tzinfo=tz)  # 21:20 is quiet: next morning


def test_event_notice_three_days_ahead_calls_key_vips_and_texts_the_rest(cast, tiers, store):
    gold = factories.member(name="吴倩", home_store=store, gender="F", consent_sms=True)
    give_tier(gold, tiers[2])
    Occasion.objects.create(name="春季VIP品鉴会", starts_on=datetime.date(2026, 4, 18), min_rank=2, call_min_rank=3)
    assert care_day_generate(day=datetime.date(2026, 4, 14), kinds=["occasion_notice"]).total == 0
    care_day_generate(day=datetime.date(2026, 4, 15), kinds=["occasion_notice"])
    assert list(CareTask.objects.values_list("member_id", flat=True)) == [cast["vip"].pk]
    assert list(Message.objects.values_list("member_id", flat=True)) == [gold.pk]
    assert "04月18日" in Message.objects.get().body


def test_birthday_gift_task_a_week_ahead_for_top_levels_only(cast):
    care_day_generate(day=datetime.date(2026, 3, 1), kinds=["birthday_gift"])
    task = CareTask.objects.get()
    assert task.member_id == cast["vip"].pk and task.status == TaskStatus.OPEN and "03-08" in task.reason


def test_points_near_a_milestone_greeted_once(vip):
    from vipcare.loyalty.models import PointsAccount

    PointsAccount.objects.create(member=vip, balance=9_500)
    care_day_generate(day=datetime.date(2026, 5, 6), kinds=["points_milestone"])
    care_day_generate(day=datetime.date(2026, 5, 7), kinds=["points_milestone"])
    assert [m.body for m in Message.objects.all()] == [
        "李女士您好，您的积分已有9500分，离10000分只差500分了，感谢您的支持！衣恋 王导购"]


def test_a_disabled_playbook_writes_nothing(vip):
    Playbook.objects.filter(kind="birthday").update(enabled=False)
    assert care_day_generate(day=datetime.date(2026, 3, 8), kinds=["birthday"]).total == 0
