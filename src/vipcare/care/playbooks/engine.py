"""The day's run: every enabled playbook's candidates become tasks and messages, in chunks.

Idempotent: tasks are unique by (playbook, member, occasion key) and messages by their dedupe
key, existing ones are skipped before writing and `ignore_conflicts` covers a concurrent run.
Rules applied per message: consent on the channel (first consented of the playbook's
channels), the weekly cap per member and channel, quiet hours, and for care messages the
sales-word check.
"""

import dataclasses
import datetime
import itertools
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count

from vipcare.care import rules
from vipcare.care.choices import CARE_KINDS, Action, Channel, MessageStatus
from vipcare.care.models import CareSettings, CareTask, MemberChurn, Message, Playbook
from vipcare.care.playbooks.candidates import CANDIDATES, Candidate, Day, member_labels
from vipcare.core.templatetags.vipcare_ui import surname
from vipcare.loyalty.models import MemberTier
from vipcare.members.models import Member
from vipcare.org.choices import Role
from vipcare.org.models import Organisation, Staff, Store

CHUNK = 2000
MEMBER_FIELDS = ("id", "name", "gender", "consent_sms", "consent_phone", "consent_wechat", "consent_email",
                 "account_manager_id", "home_store_id")


@dataclasses.dataclass
class RunReport:
    day: datetime.date
    tasks: Counter = dataclasses.field(default_factory=Counter)
    messages: Counter = dataclasses.field(default_factory=Counter)
    skipped: Counter = dataclasses.field(default_factory=Counter)  # reason → count

    @property
    def total(self) -> int:
        return sum(self.tasks.values()) + sum(self.messages.values())


def salutation_zh(name: str, gender: str) -> str:
    family = surname(name)
    if family and "\u4e00" <= family[0] <= "\u9fff" and gender in ("F", "M"):
        return family + ("女士" if gender == "F" else "先生")
    return name


class Directory:
    """Staff, stores and who stands in for whom, loaded once per run (small tables)."""

    def __init__(self):
        staff = list(Staff.objects.filter(is_active=True).prefetch_related("stores"))
        self.staff = {s.pk: s for s in staff}
        self.stores = dict(Store.objects.values_list("pk", "name"))
        self.store_manager: dict[int, int] = {}
        for s in sorted(staff, key=lambda s: s.pk):
            if s.role == Role.STORE_MANAGER:
                for store in s.stores.all():
                    self.store_manager.setdefault(store.pk, s.pk)
        ops = [s.pk for s in staff if s.role in (Role.OPERATIONS_MANAGER, Role.ADMIN)]
        self.fallback = min(ops) if ops else None
        organisation = Organisation.objects.first()
        self.organisation = organisation.name if organisation else ""

    def manager_of(self, member: dict) -> int | None:
        """The member's account manager, else their home store's manager, else operations."""
        if member["account_manager_id"] in self.staff:
            return member["account_manager_id"]
        return self.director_of(member)

    def director_of(self, member: dict) -> int | None:
        return self.store_manager.get(member["home_store_id"], self.fallback)


def _local_time(day: datetime.date, value: str, tz) -> datetime.datetime:
    hour, minute = (int(x) for x in value.split(":"))
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def care_day_generate(*, day: datetime.date, kinds: list[str] | None = None) -> RunReport:
    """Write the tasks and messages of `day` (any date: replay or preview); safe to re-run."""
    tz = ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime(day.year, day.month, day.day, tzinfo=tz)
    d = Day(day=day, start=start, end=start + datetime.timedelta(days=1))
    config = CareSettings.objects.get_or_create(pk=1)[0]
    directory = Directory()
    report = RunReport(day=day)
    playbooks = Playbook.objects.filter(enabled=True, kind__in=list(CANDIDATES)).order_by("kind")
    if kinds:
        playbooks = playbooks.filter(kind__in=kinds)
    for playbook in playbooks:
        candidates = CANDIDATES[playbook.kind](playbook, d)
        while chunk := list(itertools.islice(candidates, CHUNK)):
            _write_chunk(playbook, chunk, d, config, directory, report)
    return report


@transaction.atomic
def _write_chunk(pb: Playbook, chunk: list[Candidate], d: Day, config: CareSettings, directory: Directory,
                 report: RunReport) -> None:
    ids = sorted({c.member_id for c in chunk})
    lost = set(MemberChurn.objects.filter(member_id__in=ids).values_list("member_id", flat=True))
    members = {m["id"]: m for m in Member.objects.filter(pk__in=ids, status="active").values(*MEMBER_FIELDS)
               if m["id"] not in lost}
    ranks = dict(MemberTier.objects.filter(member_id__in=ids, tier__isnull=False).values_list("member_id",
                                                                                             "tier__rank"))
    tier_names = dict(MemberTier.objects.filter(member_id__in=ids, tier__isnull=False).values_list("member_id",
                                                                                                  "tier__name"))
    labels = member_labels(ids) if any(c.action != Action.MESSAGE for c in chunk) or pb.action == Action.TASK else {}
    tasks, messages = [], []
    existing_tasks = set(CareTask.objects.filter(playbook=pb, member_id__in=ids).values_list("member_id",
                                                                                          "occasion_key"))
    keys = [f"{pb.kind}:{c.member_id}:{c.key}" for c in chunk]
    existing_messages = set(Message.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    sent_counts = _recent_counts(ids, d)
    sales_words = config.sales_word_list()
    for candidate, dedupe_key in zip(chunk, keys, strict=True):
        member = members.get(candidate.member_id)
        if member is None:
            report.skipped["inactive"] += 1
            continue
        action = candidate.action or pb.action
        director = pb.kind == "director_contact"
        staff_id = directory.director_of(member) if director else directory.manager_of(member)
        staff = directory.staff.get(staff_id)
        store_id = candidate.context.get("visit_store_id") or member["home_store_id"]
        context = {"salutation": salutation_zh(member["name"], member["gender"]), "name": member["name"],
                   "staff": staff.name if staff else "",
                   "store": directory.stores.get(store_id, directory.organisation),
                   "tier": tier_names.get(member["id"], ""), **candidate.context}
        if action == Action.TASK:
            if (member["id"], candidate.key) in existing_tasks:
                report.skipped["exists"] += 1
                continue
            # calls need phone consent; preparing a gift does not
            if pb.parameters.get("needs_consent", pb.kind != "birthday_gift") and not member["consent_phone"]:
                report.skipped["no_consent"] += 1
                continue
            template = pb.parameters.get("call_script", pb.template) if candidate.action else pb.template
            due_time = pb.parameters.get("due_time")
            tasks.append(CareTask(
                member_id=member["id"], assignee_id=staff_id, playbook=pb, occasion_key=candidate.key,
                due_on=d.day + datetime.timedelta(days=int(pb.parameters.get("due_days", 0))),
                due_time=datetime.time.fromisoformat(due_time) if due_time else None,
                reason=(candidate.reason or pb.name)[:200], script=rules.render(template, context),
                priority=rules.priority(base=pb.priority, rank=ranks.get(member["id"], 0),
                                        labels=labels.get(member["id"])),
            ))
            report.tasks[pb.kind] += 1
            continue
        if dedupe_key in existing_messages:
            report.skipped["exists"] += 1
            continue
        channel = next((c for c in pb.parameters.get("channels") or [pb.channel] if member[f"consent_{c}"]), None)
        if channel is None:
            report.skipped["no_consent"] += 1
            continue
        cap = int(config.weekly_caps.get(channel, 10**6))
        if sent_counts[(member["id"], channel)] >= cap:
            report.skipped["cap"] += 1
            continue
        body = rules.render(pb.template, context)
        if pb.kind in CARE_KINDS and rules.sales_words_in(body, sales_words):
            report.skipped["sales_words"] += 1
            continue
        at = candidate.send_at.astimezone(d.start.tzinfo) if candidate.send_at else _local_time(
            d.day, pb.parameters.get("send_time", "10:00"), d.start.tzinfo)
        if channel != Channel.EMAIL:
            at = rules.after_quiet_hours(at, config.quiet_start, config.quiet_end)
        sent_counts[(member["id"], channel)] += 1
        messages.append(Message(
            member_id=member["id"], staff_id=staff_id, playbook=pb, channel=channel, template=pb.template,
            subject=pb.name, body=body, is_care=pb.kind in CARE_KINDS, status=MessageStatus.QUEUED,
            scheduled_at=at, dedupe_key=dedupe_key,
        ))
        report.messages[pb.kind] += 1
    CareTask.objects.bulk_create(tasks, ignore_conflicts=True)
    Message.objects.bulk_create(messages, ignore_conflicts=True)


def _recent_counts(ids: list[int], d: Day) -> defaultdict:
    """Messages per (member, channel) within 6 days either side of the day: a new message keeps
    every 7-day window containing it under the cap, whatever order days are run in."""
    rows = (Message.objects.filter(member_id__in=ids, scheduled_at__gte=d.ago(6),
                                   scheduled_at__lt=d.start + datetime.timedelta(days=7))
            .exclude(status=MessageStatus.CANCELLED).values("member_id", "channel").annotate(n=Count("id")))
    counts: defaultdict = defaultdict(int)
    for row in rows:
        counts[(row["member_id"], row["channel"])] = row["n"]
    return counts
