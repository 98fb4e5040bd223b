"""The points-expiry reminder, from the loyalty lots through the outbox, time-travelled day by day."""

import datetime

from django.utils import timezone

from tests import factories
from vipcare.care.channels.file import FileBackend
from vipcare.care.messaging import outbox_drain
from vipcare.care.models import Message, Playbook
from vipcare.care.playbooks.engine import care_day_generate
from vipcare.loyalty.models import PointsAccount, PointsLot

DAYS = [datetime.date(2026, 5, 1) + datetime.timedelta(days=i) for i in range(123)]  # May to August


def lot(account, *, remaining, expires_at, points=None):
    return PointsLot.objects.create(account=account, points=points or remaining, remaining=remaining,
                                    earned_at=expires_at - datetime.timedelta(days=365),
                                    available_at=expires_at - datetime.timedelta(days=365), expires_at=expires_at)


def test_a_lapsing_lot_gets_one_reminder_thirty_days_ahead_and_the_next_one_a_window_later(vip, store,
                                                                                         tmp_path):
    tz = timezone.get_current_timezone()
    account = PointsAccount.objects.create(member=vip, balance=1_000)
    lot(account, remaining=800, expires_at=datetime.datetime(2026, 7, 1, tzinfo=tz))  # local midnight
    lot(account, remaining=200, expires_at=datetime.datetime(2026, 7, 15, tzinfo=tz))
    lot(account, remaining=0, points=500, expires_at=datetime.datetime(2026, 6, 10, tzinfo=tz))  # all spent
    silent = factories.member(name="赵强", home_store=store, gender="M")  # consents to nothing
    lot(PointsAccount.objects.create(member=silent, balance=300), remaining=300,
        expires_at=datetime.datetime(2026, 7, 1, tzinfo=tz))
    # when every day is run, some twice
    fired = {}
    for day in DAYS:
        report = care_day_generate(day=day, kinds=["points_expiring"])
        if day.day % 3 == 0:
            assert care_day_generate(day=day, kinds=["points_expiring"]).total == 0
        if report.total:
            fired[day] = report.messages["points_expiring"]
    # then the first reminder comes exactly 30 days before 07-01 and covers only what lapses by then;
    # the 07-15 lot is told a window later, never twice, and the spent lot never
    assert fired == {datetime.date(2026, 6, 1): 1, datetime.date(2026, 7, 2): 1}
    messages = list(Message.objects.filter(playbook__kind="points_expiring").order_by("scheduled_at"))
    assert [m.member_id for m in messages] == [vip.pk, vip.pk]
    assert [m.body for m in messages] == [
        "李女士您好，您有800积分将于07月01日到期，记得在到期前使用哦。衣恋 王导购",
        "李女士您好，您有200积分将于07月15日到期，记得在到期前使用哦。衣恋 王导购"]
    assert timezone.localtime(messages[0].scheduled_at) == datetime.datetime(2026, 6, 1, 11, tzinfo=tz)
    # and it goes out through the outbox like every other message
    result = outbox_drain(now=datetime.datetime(2026, 6, 1, 12, tzinfo=tz), backends=lambda channel: FileBackend(
        tmp_path / channel))
    assert result["sent"] == 1
    assert Message.objects.get(pk=messages[0].pk).status == "sent"


def test_the_reminder_window_follows_the_playbook_then_the_points_policy(vip):
    from vipcare.loyalty.models import PointsPolicy

    tz = timezone.get_current_timezone()
    lot(PointsAccount.objects.create(member=vip, balance=100), remaining=100,
        expires_at=datetime.datetime(2026, 7, 1, tzinfo=tz))
    Playbook.objects.filter(kind="points_expiring").update(parameters={"channels": ["sms"], "within_days": 7})
    assert not care_day_generate(day=datetime.date(2026, 6, 23), kinds=["points_expiring"]).total
    assert care_day_generate(day=datetime.date(2026, 6, 24), kinds=["points_expiring"]).total == 1
    Message.objects.all().delete()
    Playbook.objects.filter(kind="points_expiring").update(parameters={"channels": ["sms"]})
    PointsPolicy.objects.update_or_create(pk=1, defaults={"reminder_days": 14})
    assert not care_day_generate(day=datetime.date(2026, 6, 16), kinds=["points_expiring"]).total
    assert care_day_generate(day=datetime.date(2026, 6, 17), kinds=["points_expiring"]).total == 1
