"""The outbox: messages are written in the generating transaction and sent afterwards.

At most once per message: a message is claimed (queued → sending) in its own transaction before
the gateway is called, and recorded as sent in another. A crash between the two leaves it
`sending`; after the lease it is resent with the same provider ref when the backend's provider
recognises a resend (idempotent), and otherwise set aside as failed for a person to check —
never sent twice, never silently dropped.
"""

import datetime
from collections import Counter

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from vipcare.care import rules
from vipcare.care.channels import Outgoing, PermanentError, TransientError, backend_for
from vipcare.care.choices import CARE_KINDS, Channel, ContactKind, MessageStatus
from vipcare.care.models import CareSettings, ContactRecord, Message, Playbook
from vipcare.care.playbooks.engine import salutation_zh
from vipcare.members.models import Member

LEASE = datetime.timedelta(minutes=10)
INTERRUPTED = "interrupted while sending; not resent to avoid a duplicate — check the provider's report"


class NoConsentError(ValueError):
    pass


class CapReachedError(ValueError):
    pass


def care_settings() -> CareSettings:
    return CareSettings.objects.get_or_create(pk=1)[0]


@transaction.atomic
def message_enqueue(*, member: Member, kind: str, dedupe_key: str, context: dict | None = None, staff=None,
                    store=None, at: datetime.datetime | None = None) -> Message:
    """One message from a playbook's template, with the same rules as the day's run; raises
    NoConsentError, CapReachedError or SalesWordsError and writes nothing."""
    existing = Message.objects.filter(dedupe_key=dedupe_key).first()
    if existing:
        return existing
    playbook = Playbook.objects.get(kind=kind)
    config = care_settings()
    channel = next((c for c in playbook.parameters.get("channels") or [playbook.channel] if member.consents_to(c)),
                   None)
    if channel is None:
        raise NoConsentError(f"member {member.pk} has not consented to {playbook.parameters.get('channels')}")
    at = timezone.localtime(at or timezone.now())
    week = Message.objects.filter(member=member, channel=channel, scheduled_at__gte=at - datetime.timedelta(days=7),
                                  scheduled_at__lt=at + datetime.timedelta(days=7)).exclude(
        status=MessageStatus.CANCELLED).count()
    if week >= int(config.weekly_caps.get(channel, 10**6)):
        raise CapReachedError(f"{channel} cap reached for member {member.pk}")
    store = store or member.home_store
    body = rules.render(playbook.template, {"salutation": salutation_zh(member.name, member.gender),
                                            "name": member.name, "staff": staff.name if staff else "",
                                            "store": store.name if store else "", **(context or {})})
    if kind in CARE_KINDS:
        rules.check_care_text(body, config.sales_word_list())
    if channel != Channel.EMAIL:
        at = rules.after_quiet_hours(at, config.quiet_start, config.quiet_end)
    return Message.objects.create(member=member, staff=staff, playbook=playbook, channel=channel,
                                  template=playbook.template, subject=playbook.name, body=body,
                                  is_care=kind in CARE_KINDS, scheduled_at=at, dedupe_key=dedupe_key)


def _address(member: Member, channel: str) -> str:
    if channel == Channel.SMS:
        return member.phone
    if channel == Channel.EMAIL:
        return member.email
    if channel == Channel.WECHAT:
        return (member.extra or {}).get("wechat_openid", "")
    return ""


def _claim(pk: int, now) -> bool:
    with transaction.atomic():
        return Message.objects.filter(pk=pk, status=MessageStatus.QUEUED).update(
            status=MessageStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1) == 1


def _recover(now, backends) -> int:
    recovered = 0
    for message in Message.objects.filter(status=MessageStatus.SENDING, claimed_at__lt=now - LEASE):
        backend = backends(message.channel)
        with transaction.atomic():
            if getattr(backend, "idempotent", False):
                n = Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
                    status=MessageStatus.QUEUED)
            else:
                n = Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
                    status=MessageStatus.FAILED, last_error=INTERRUPTED)
        recovered += n
    return recovered


def outbox_drain(*, now: datetime.datetime | None = None, backends=None, limit: int = 1000) -> Counter:
    """Send what is due; returns counts by outcome. Safe to run in several processes at once."""
    now = now or timezone.now()
    backends = backends or backend_for
    config = care_settings()
    result = Counter(recovered=_recover(now, backends))
    local = timezone.localtime(now).time()
    due = Message.objects.filter(status=MessageStatus.QUEUED, scheduled_at__lte=now)
    if rules.in_quiet_hours(local, config.quiet_start, config.quiet_end):
        due = due.filter(channel=Channel.EMAIL)  # nothing to phones at night
    for pk in list(due.order_by("scheduled_at", "pk").values_list("pk", flat=True)[:limit]):
        if not _claim(pk, now):
            continue  # another sender has it
        message = Message.objects.select_related("member").get(pk=pk)
        member = message.member
        if not member.consents_to(message.channel) or member.status != "active":
            # an unsubscribe since the message was written wins
            Message.objects.filter(pk=pk).update(status=MessageStatus.CANCELLED, last_error="no consent")
            result["cancelled"] += 1
            continue
        outgoing = Outgoing(ref=str(message.provider_ref), channel=message.channel,
                            to=_address(member, message.channel), subject=message.subject, body=message.body)
        try:
            if not outgoing.to:
                raise PermanentError("no address for this channel")
            provider_id = backends(message.channel).send(outgoing)
        except TransientError as exc:
            final = message.attempts >= config.max_attempts
            Message.objects.filter(pk=pk).update(
                status=MessageStatus.FAILED if final else MessageStatus.QUEUED, last_error=str(exc)[:300],
                scheduled_at=now + datetime.timedelta(minutes=2 ** message.attempts))
            result["failed" if final else "retry"] += 1
            continue
        except PermanentError as exc:
            Message.objects.filter(pk=pk).update(status=MessageStatus.FAILED, last_error=str(exc)[:300])
            result["failed"] += 1
            continue
        _record_sent(message, provider_id, now)
        result["sent"] += 1
    return result


@transaction.atomic
def _record_sent(message: Message, provider_id: str, now) -> None:
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.SENT, sent_at=now,
                                                 provider_message_id=provider_id[:100], last_error="")
    ContactRecord.objects.create(member_id=message.member_id, staff_id=message.staff_id, kind=ContactKind.MESSAGE,
                                 at=now, summary=f"{message.get_channel_display()}：{message.subject}"[:200],
                                 notes=message.body, message=message)


@transaction.atomic
def member_unsubscribe(*, member: Member, channel: str, changed_by=None) -> int:
    """The member says no more on a channel: consent off, and queued messages cancelled now."""
    from vipcare.members.services import member_update

    if channel not in {c.value for c in Channel}:
        raise ValueError(f"unknown channel {channel!r}")
    member_update(member=member, changed_by=changed_by, **{f"consent_{channel}": False})
    return Message.objects.filter(member=member, channel=channel, status=MessageStatus.QUEUED).update(
        status=MessageStatus.CANCELLED, last_error="unsubscribed")
