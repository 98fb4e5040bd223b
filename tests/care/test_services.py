"""Tasks, complaints, gifts, churn, account managers and handover."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests import factories
from vipcare.care.choices import ComplaintStatus, GiftStatus, TaskStatus
from vipcare.care.models import CareTask, ContactRecord, GiftItem, Message, Playbook
from vipcare.care.playbooks.engine import care_day_generate
from vipcare.care.services import (
    account_managers_assign,
    care_task_complete,
    complaint_open,
    complaint_resolve,
    complaint_step_add,
    gift_choose,
    gift_mail,
    member_mark_lost,
    playbook_update,
    staff_handover,
)
from vipcare.core.models import AuditAction, AuditLogEntry
from vipcare.members.selectors import member_timeline


@pytest.fixture
def call(vip):
    care_day_generate(day=datetime.date(2026, 1, vip.pk % 28 + 1), kinds=["regular_call"])
    return CareTask.objects.get()


def test_care_task_complete_writes_the_record_on_the_member_timeline(call, account_manager, vip):
    care_task_complete(task=call, staff=account_manager, outcome="reached", notes="最近去了云南旅行", satisfaction=5)
    call.refresh_from_db()
    assert call.status == TaskStatus.DONE and call.satisfaction == 5
    events = member_timeline(member=vip, staff=account_manager)
    assert any(e["kind"] == "care-call" and "已联系" in e["title"] and "云南" in e["detail"] for e in events)


def test_care_task_complete_call_back_keeps_it_open_on_the_agreed_day(call, account_manager):
    at = timezone.make_aware(datetime.datetime(2026, 1, 30, 18, 0))
    care_task_complete(task=call, staff=account_manager, outcome="call_back", call_back_at=at)
    call.refresh_from_db()
    assert call.status == TaskStatus.OPEN and call.due_on == datetime.date(2026, 1, 30)


@pytest.mark.parametrize(("fields", "error"), [({"outcome": "maybe"}, "outcome"), ({"satisfaction": 9}, "satisfaction"),
                                               ({"outcome": "call_back"}, "call_back_at")])
def test_care_task_complete_refuses_bad_input_and_changes_nothing(call, account_manager, fields, error):
    with pytest.raises(ValidationError) as exc:
        care_task_complete(task=call, staff=account_manager, **{"outcome": "reached", **fields})
    assert error in exc.value.message_dict
    call.refresh_from_db()
    assert call.status == TaskStatus.OPEN and not ContactRecord.objects.exists()


def test_playbook_update_refuses_sales_words_in_care_templates(db):
    birthday = Playbook.objects.get(kind="birthday")
    with pytest.raises(ValidationError) as exc:
        playbook_update(playbook=birthday, template="{{ salutation }}生日快乐，新品上市折扣多多")
    assert "新品" in str(exc.value) and "折扣" in str(exc.value)
    birthday.refresh_from_db()
    assert "新品" not in birthday.template
    occasion = Playbook.objects.get(kind="occasion_notice")  # an offer notice may speak of offers
    playbook_update(playbook=occasion, template="{{ occasion }}优惠专场")


def test_complaint_has_a_response_target_steps_and_a_survey_call_after_resolution(vip, account_manager):
    now = timezone.now()
    complaint = complaint_open(member=vip, staff=account_manager, description="衣服洗后缩水", now=now)
    assert complaint.respond_by == now + datetime.timedelta(hours=24)
    complaint_step_add(complaint=complaint, staff=account_manager, note="已联系品牌，安排换货")
    complaint_resolve(complaint=complaint, staff=account_manager, resolution="已换新")
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RESOLVED and complaint.first_response_at is not None
    assert CareTask.objects.get(playbook__kind="complaint_survey").assignee == account_manager
    with pytest.raises(ValidationError):
        complaint_step_add(complaint=complaint, staff=account_manager, note="again")


def test_birthday_gift_chosen_mailed_and_the_member_told(vip, account_manager):
    care_day_generate(day=datetime.date(2026, 3, 1), kinds=["birthday_gift"])
    task = CareTask.objects.get()
    item = GiftItem.objects.create(name="真丝围巾", cost_fen=19900)
    with pytest.raises(ValidationError):
        gift_mail(gift=gift_choose(task=task, item=item).__class__.objects.create(member=vip, occasion_key="x"),
                  staff=account_manager)
    gift = gift_choose(task=task, item=item)
    gift_mail(gift=gift, staff=account_manager, tracking_no="SF123")
    gift.refresh_from_db()
    assert gift.status == GiftStatus.MAILED
    assert "真丝围巾已经寄出（快递单号SF123）" in Message.objects.get(playbook__kind="gift_sent").body


def test_a_member_marked_lost_keeps_the_reason_and_gets_no_more_tasks(vip, call, account_manager):
    with pytest.raises(ValidationError):
        member_mark_lost(member=vip, reason="bored", staff=account_manager)
    member_mark_lost(member=vip, reason="staff_turnover", staff=account_manager)
    call.refresh_from_db()
    assert call.status == TaskStatus.CANCELLED
    assert care_day_generate(day=datetime.date(2026, 3, 8), kinds=["birthday"]).total == 0


def test_account_managers_assigned_balanced_by_store_and_handed_over_when_one_leaves(store, other_store,
                                                                                     account_manager):
    second = factories.staff(role="account_manager", stores=[store], name="刘导购")
    elsewhere = factories.staff(role="account_manager", stores=[other_store], name="陈导购")
    members = [factories.member(name=f"会员{i}", home_store=store) for i in range(6)]
    members.append(factories.member(name="外店会员", home_store=other_store))
    assert account_managers_assign() == 7
    counts = {s.pk: s.managed_members.count() for s in (account_manager, second, elsewhere)}
    assert counts == {account_manager.pk: 3, second.pk: 3, elsewhere.pk: 1}
    # open tasks follow the members on handover; one step, logged
    leaving_member = account_manager.managed_members.first()
    CareTask.objects.create(member=leaving_member, assignee=account_manager, playbook=Playbook.objects.first(),
                            occasion_key="k", due_on=datetime.date(2026, 1, 1), reason="r")
    detail = staff_handover(leaving=account_manager, left_on=datetime.date(2026, 1, 31))
    assert detail["members"] == 3 and detail["tasks"] == 1
    assert second.managed_members.count() == 6
    assert CareTask.objects.get().assignee == second
    account_manager.refresh_from_db()
    assert account_manager.is_active is False
    assert AuditLogEntry.objects.filter(action=AuditAction.STAFF_HANDOVER, target_id=str(account_manager.pk)).exists()
