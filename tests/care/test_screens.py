"""Screens for gifts, marking a member lost, overriding the account manager and the staff handover."""

import datetime

import pytest

from tests import factories
from vipcare.care.choices import GiftStatus, TaskStatus
from vipcare.care.models import CareTask, ContactRecord, Gift, GiftItem, MemberChurn, Message, Playbook
from vipcare.care.playbooks.engine import care_day_generate
from vipcare.core.models import AuditAction, AuditLogEntry
from vipcare.members.models import Member


def login(client, username):
    assert client.login(username=username, password=factories.PASSWORD)


@pytest.fixture
def gift_task(vip):
    care_day_generate(day=datetime.date(2026, 3, 1), kinds=["birthday_gift"])  # a week before 03-08
    return CareTask.objects.get(playbook__kind="birthday_gift")


@pytest.fixture
def scarf(db):
    GiftItem.objects.create(name="旧款礼盒", is_active=False)
    return GiftItem.objects.create(name="真丝围巾", cost_fen=19900)


def test_gift_chosen_from_the_list_then_mailed_tells_the_member_and_closes_the_task(client, gift_task, scarf, vip):
    login(client, "guide")
    page = client.get("/care/gifts/").content.decode()
    assert "李娜" in page and "真丝围巾" in page and "旧款礼盒" not in page
    # mailing before choosing is refused and changes nothing
    row = client.post(f"/care/gifts/{gift_task.pk}/", {"mail": "1", "tracking_no": "SF1"}, HTTP_HX_REQUEST="true")
    assert row.status_code == 200 and 'class="error"' in row.content.decode()
    assert not Gift.objects.exists() and not Message.objects.exists()
    # choose, then mail with the tracking number (htmx answers the row)
    row = client.post(f"/care/gifts/{gift_task.pk}/", {"item": scarf.pk}, HTTP_HX_REQUEST="true").content.decode()
    assert f'id="gift-{gift_task.pk}"' in row and 'name="tracking_no"' in row
    row = client.post(f"/care/gifts/{gift_task.pk}/", {"mail": "1", "tracking_no": " SF123 "},
                      HTTP_HX_REQUEST="true").content.decode()
    assert "SF123" in row and 'name="tracking_no"' not in row
    gift = Gift.objects.get()
    assert gift.status == GiftStatus.MAILED and gift.item == scarf and gift.tracking_no == "SF123"
    gift_task.refresh_from_db()
    assert gift_task.status == TaskStatus.DONE
    told = Message.objects.get(playbook__kind="gift_sent")
    assert told.member == vip and "真丝围巾已经寄出（快递单号SF123）" in told.body
    record = ContactRecord.objects.get(kind="gift")
    assert record.task == gift_task and "真丝围巾" in record.summary
    assert "真丝围巾" in client.get(f"/members/{vip.pk}/").content.decode()
    # done: off the list
    assert "李娜" not in client.get("/care/gifts/").content.decode()


def test_gifts_of_others_cannot_be_touched_and_an_inactive_item_cannot_be_chosen(client, gift_task, scarf, store):
    factories.staff(role="account_manager", stores=[store], username="other")
    login(client, "other")
    assert "李娜" not in client.get("/care/gifts/").content.decode()
    assert client.post(f"/care/gifts/{gift_task.pk}/", {"item": scarf.pk}).status_code == 404
    client.logout()
    login(client, "guide")
    inactive = GiftItem.objects.get(is_active=False)
    client.post(f"/care/gifts/{gift_task.pk}/", {"item": inactive.pk})
    assert not Gift.objects.exists()


def test_member_marked_lost_from_the_360_with_the_churn_reason(client, vip, gift_task):
    login(client, "guide")
    page = client.get(f"/members/{vip.pk}/").content.decode()
    assert f"/care/members/{vip.pk}/lost/" in page
    # no reason: refused, nothing changes
    answer = client.post(f"/care/members/{vip.pk}/lost/", {"reason": "bored"}, follow=True)
    assert answer.status_code == 200 and not MemberChurn.objects.exists()
    answer = client.post(f"/care/members/{vip.pk}/lost/", {"reason": "competitive", "note": "去了对面商场"})
    assert answer.status_code == 302 and answer["Location"] == f"/members/{vip.pk}/"
    churn = MemberChurn.objects.get(member=vip)
    assert churn.reason == "competitive" and churn.note == "去了对面商场" and churn.marked_by.user.username == "guide"
    gift_task.refresh_from_db()
    assert gift_task.status == TaskStatus.CANCELLED
    page = client.get(f"/members/{vip.pk}/").content.decode()
    assert "去了对面商场" in page and f"/care/members/{vip.pk}/lost/" not in page


def test_a_member_outside_ones_stores_cannot_be_marked_lost(client, vip, other_store):
    factories.staff(role="account_manager", stores=[other_store], username="far")
    login(client, "far")
    assert client.post(f"/care/members/{vip.pk}/lost/", {"reason": "natural"}).status_code == 404
    assert not MemberChurn.objects.exists()


def test_store_manager_overrides_the_account_manager_and_open_tasks_follow(client, vip, gift_task, store,
                                                                           store_manager, other_store):
    second = factories.staff(role="account_manager", stores=[store], name="刘导购")
    elsewhere = factories.staff(role="account_manager", stores=[other_store], name="远方导购")
    login(client, "manager")
    page = client.get(f"/members/{vip.pk}/").content.decode()
    assert "刘导购" in page and "远方导购" not in page
    # someone from another store: refused, unchanged
    client.post(f"/care/members/{vip.pk}/manager/", {"manager": elsewhere.pk})
    assert Member.objects.get(pk=vip.pk).account_manager.user.username == "guide"
    answer = client.post(f"/care/members/{vip.pk}/manager/", {"manager": second.pk})
    assert answer.status_code == 302
    assert Member.objects.get(pk=vip.pk).account_manager == second
    gift_task.refresh_from_db()
    assert gift_task.assignee == second
    assert AuditLogEntry.objects.filter(action=AuditAction.ASSIGN_ACCOUNT_MANAGER, target_id=str(vip.pk),
                                        user__username="manager").exists()


def test_an_account_manager_may_not_override(client, vip, store):
    second = factories.staff(role="account_manager", stores=[store], name="刘导购")
    login(client, "guide")
    assert f"/care/members/{vip.pk}/manager/" not in client.get(f"/members/{vip.pk}/").content.decode()
    assert client.post(f"/care/members/{vip.pk}/manager/", {"manager": second.pk}).status_code == 403
    assert Member.objects.get(pk=vip.pk).account_manager.user.username == "guide"


def test_store_manager_hands_a_leaving_staff_members_and_tasks_over_in_one_step(client, vip, gift_task, store,
                                                                                store_manager, account_manager):
    second = factories.staff(role="account_manager", stores=[store], name="刘导购")
    other = factories.member(name="张敏", home_store=store, account_manager=account_manager)
    login(client, "manager")
    page = client.get("/care/handover/").content.decode()
    assert "王导购" in page and "刘导购" in page
    # nobody chosen: refused, nothing moves
    answer = client.post("/care/handover/", {"leaving": "", "to": str(second.pk)})
    assert answer.status_code == 200 and 'class="error"' in answer.content.decode()
    assert account_manager.managed_members.count() == 2
    # a bad date: refused, nothing moves
    client.post("/care/handover/", {"leaving": account_manager.pk, "left_on": "31/01/2026"})
    assert account_manager.managed_members.count() == 2
    answer = client.post("/care/handover/", {"leaving": account_manager.pk, "to": "", "left_on": "2026-01-31"})
    assert answer.status_code == 302
    assert set(second.managed_members.values_list("pk", flat=True)) == {vip.pk, other.pk}
    gift_task.refresh_from_db()
    assert gift_task.assignee == second
    account_manager.refresh_from_db()
    assert account_manager.is_active is False and account_manager.left_on == datetime.date(2026, 1, 31)
    entry = AuditLogEntry.objects.get(action=AuditAction.STAFF_HANDOVER)
    assert entry.target_id == str(account_manager.pk) and entry.user.username == "manager"
    assert entry.detail["members"] == 2 and entry.detail["tasks"] == 1
    # the one who left is no longer offered, only listed among the recent handovers
    page = client.get("/care/handover/").content.decode()
    assert f'value="{account_manager.pk}"' not in page and "<td>王导购</td>" in page


def test_handover_is_for_managers_and_within_their_stores(client, store, other_store, account_manager):
    login(client, "guide")
    assert client.get("/care/handover/").status_code == 403
    client.logout()
    far_manager = factories.staff(role="store_manager", stores=[other_store], username="far")
    login(client, "far")
    client.post("/care/handover/", {"leaving": account_manager.pk})
    account_manager.refresh_from_db()
    assert account_manager.is_active and not AuditLogEntry.objects.filter(action=AuditAction.STAFF_HANDOVER).exists()
    del far_manager


def test_gift_and_handover_screens_are_in_the_navigation(client, store_manager, account_manager):
    login(client, "manager")
    page = client.get("/care/today/").content.decode()
    assert 'href="/care/gifts/"' in page and 'href="/care/handover/"' in page
    client.logout()
    login(client, "guide")
    page = client.get("/care/today/").content.decode()
    assert 'href="/care/gifts/"' in page and 'href="/care/handover/"' not in page
    assert Playbook.objects.filter(kind="birthday_gift").exists()


def test_a_manager_from_elsewhere_is_shown_but_not_offered(client, vip, store, store_manager, other_store):
    from vipcare.care.services import member_account_manager_set

    elsewhere = factories.staff(role="account_manager", stores=[other_store], name="远方导购")
    member_account_manager_set(member=vip, manager=elsewhere)
    login(client, "manager")
    page = client.get(f"/members/{vip.pk}/").content.decode()
    assert "<option value=\"\" selected disabled>远方导购</option>" in page
    assert f'value="{elsewhere.pk}"' not in page
