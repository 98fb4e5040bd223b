"""The outbox: at most once per message, nothing lost across a crash, consent checked at send."""

import datetime

import pytest

from vipcare.care.channels import Outgoing, TransientError
from vipcare.care.choices import MessageStatus
from vipcare.care.messaging import INTERRUPTED, LEASE, NoConsentError, member_unsubscribe, message_enqueue, outbox_drain
from vipcare.care.models import ContactRecord, Message
from vipcare.care.rules import SalesWordsError


class Gateway:
    """A provider that remembers every ref it delivered (an idempotent one answers a resend with
    the first delivery's id)."""

    def __init__(self, idempotent=True):
        self.idempotent = idempotent
        self.delivered: list[Outgoing] = []
        self.crash_after_send = False
        self.fail_times = 0

    def send(self, outgoing):
        if self.fail_times:
            self.fail_times -= 1
            raise TransientError("gateway busy")
        if self.idempotent and any(o.ref == outgoing.ref for o in self.delivered):
            return f"id-{outgoing.ref}"
        self.delivered.append(outgoing)
        if self.crash_after_send:
            raise KeyboardInterrupt("process killed between send and record")
        return f"id-{outgoing.ref}"


NOON = datetime.datetime(2026, 3, 8, 12, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


@pytest.fixture
def queued(vip):
    return message_enqueue(member=vip, kind="birthday", dedupe_key="t:1", at=NOON)


def test_a_crash_between_send_and_record_neither_duplicates_nor_loses_the_message(queued):
    gateway = Gateway(idempotent=True)
    gateway.crash_after_send = True
    # when the sender dies right after the provider accepted the message
    with pytest.raises(KeyboardInterrupt):
        outbox_drain(now=NOON, backends=lambda channel: gateway)
    queued.refresh_from_db()
    assert queued.status == MessageStatus.SENDING and len(gateway.delivered) == 1
    # then a restart inside the lease leaves it alone (another sender may still be working on it)
    gateway.crash_after_send = False
    assert outbox_drain(now=NOON + datetime.timedelta(minutes=1), backends=lambda c: gateway)["sent"] == 0
    # and after the lease it is resent with the same ref: the provider recognises it, one delivery
    result = outbox_drain(now=NOON + LEASE + datetime.timedelta(minutes=1), backends=lambda c: gateway)
    queued.refresh_from_db()
    assert result["sent"] == 1 and queued.status == MessageStatus.SENT
    assert len(gateway.delivered) == 1 and queued.provider_message_id == f"id-{queued.provider_ref}"
    assert ContactRecord.objects.filter(message=queued).count() == 1


def test_a_crash_with_a_provider_that_cannot_recognise_resends_sets_the_message_aside(queued):
    gateway = Gateway(idempotent=False)
    gateway.crash_after_send = True
    with pytest.raises(KeyboardInterrupt):
        outbox_drain(now=NOON, backends=lambda channel: gateway)
    gateway.crash_after_send = False
    outbox_drain(now=NOON + LEASE * 2, backends=lambda c: gateway)
    queued.refresh_from_db()
    assert len(gateway.delivered) == 1  # never twice
    assert queued.status == MessageStatus.FAILED and queued.last_error == INTERRUPTED  # visible, not lost


def test_transient_failures_are_retried_with_backoff_then_sent_once(queued):
    gateway = Gateway()
    gateway.fail_times = 2
    assert outbox_drain(now=NOON, backends=lambda c: gateway)["retry"] == 1
    assert outbox_drain(now=NOON, backends=lambda c: gateway)["sent"] == 0  # not due yet
    later = NOON + datetime.timedelta(hours=1)
    outbox_drain(now=later, backends=lambda c: gateway)
    outbox_drain(now=later + datetime.timedelta(hours=1), backends=lambda c: gateway)
    queued.refresh_from_db()
    assert queued.status == MessageStatus.SENT and queued.attempts == 3 and len(gateway.delivered) == 1


def test_an_unsubscribe_takes_effect_before_the_next_send(queued, vip):
    gateway = Gateway()
    other = Message.objects.create(member=vip, channel="sms", body="x", scheduled_at=NOON, dedupe_key="t:2")
    # given the member withdrew SMS consent without going through the unsubscribe service
    type(vip).objects.filter(pk=vip.pk).update(consent_sms=False)
    outbox_drain(now=NOON, backends=lambda c: gateway)
    assert gateway.delivered == []
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.CANCELLED}
    del other


def test_unsubscribe_service_turns_consent_off_and_cancels_queued_messages(queued, vip):
    assert member_unsubscribe(member=vip, channel="sms") == 1
    vip.refresh_from_db()
    assert vip.consent_sms is False
    with pytest.raises(NoConsentError):
        message_enqueue(member=vip, kind="birthday", dedupe_key="t:3", at=NOON)


def test_no_sms_leaves_during_quiet_hours(queued):
    gateway = Gateway()
    night = datetime.datetime(2026, 3, 8, 23, 0, tzinfo=NOON.tzinfo)
    Message.objects.filter(pk=queued.pk).update(scheduled_at=night - datetime.timedelta(hours=1))
    assert outbox_drain(now=night, backends=lambda c: gateway)["sent"] == 0
    assert outbox_drain(now=night + datetime.timedelta(hours=10), backends=lambda c: gateway)["sent"] == 1


def test_enqueue_refuses_a_care_message_with_a_sales_word_and_writes_nothing(vip):
    from vipcare.care.models import Playbook

    Playbook.objects.filter(kind="birthday").update(template="{{ salutation }}生日快乐！新品八折优惠等您")
    with pytest.raises(SalesWordsError) as error:
        message_enqueue(member=vip, kind="birthday", dedupe_key="t:4", at=NOON)
    assert error.value.words == ["新品", "优惠"]
    assert not Message.objects.exists()


def test_the_default_file_backend_writes_each_message_once(queued, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    outbox_drain(now=NOON)  # a fixed daytime: at night the quiet hours would rightly hold the SMS back
    files = list((tmp_path / "outbox" / "sms").glob("*.json"))
    assert [f.stem for f in files] == [str(queued.provider_ref)]
    assert "生日快乐" in files[0].read_text(encoding="utf-8")
