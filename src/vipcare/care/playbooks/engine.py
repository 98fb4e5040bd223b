"""The day's run: every enabled playbook's candidates become tasks and messages, in chunks.

Idempotent: tasks are unique by (playbook, member, occasion key) and messages by their dedupe
key, existing ones are skipped before writing and ON CONFLICT DO NOTHING covers a concurrent
run. Rules applied per message: consent on the channel (first consented of the playbook's
channels), the weekly cap per member and channel, quiet hours, and for care messages the
sales-word check.

Set-based where it counts: a festival or season day writes a message to every consenting
member. Those playbooks hand over one `Greeting` (a queryset, a key, a shared context) instead
of a candidate per member, and `_write_greeting` reads the members as plain rows by id range,
looks texts up per (salutation, staff, store) and renders each distinct one once. For every
chunk, of either kind, what exists is read first, the other facts (members, levels, recent
counts) with one query each, and the outbox rows go in through one prepared
INSERT … ON CONFLICT DO NOTHING.
"""

import contextlib
import dataclasses
import datetime
import functools
import itertools
import os
import time
import uuid
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q

from vipcare.care import rules
from vipcare.care.choices import CARE_KINDS, Action, Channel, MessageStatus
from vipcare.care.models import CareSettings, CareTask, MemberChurn, Message, Playbook
from vipcare.care.playbooks.candidates import CANDIDATES, GREETINGS, Candidate, Day, Greeting, member_labels
from vipcare.core.templatetags.vipcare_ui import surname
from vipcare.loyalty.models import MemberTier
from vipcare.members.models import Member
from vipcare.org.choices import Role
from vipcare.org.models import Organisation, Staff, Store

CHUNK = 10_000  # candidates per transaction; far below SQLite's 32,766 query parameters
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


@functools.lru_cache(maxsize=100_000)
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
        self.names = {s.pk: s.name for s in staff}
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
    renderer = rules.Renderer(config.sales_word_list())
    report = RunReport(day=day)
    playbooks = Playbook.objects.filter(enabled=True, kind__in=list(CANDIDATES)).order_by("kind")
    if kinds:
        playbooks = playbooks.filter(kind__in=kinds)
    with _sqlite_cache(mib=256):
        for playbook in playbooks:
            if playbook.kind in GREETINGS and playbook.action == Action.MESSAGE:
                for greeting in GREETINGS[playbook.kind](playbook, d):
                    _write_greeting(playbook, greeting, d, config, directory, renderer, report)
                continue
            candidates = CANDIDATES[playbook.kind](playbook, d)
            while chunk := list(itertools.islice(candidates, CHUNK)):
                _write_chunk(playbook, chunk, d, config, directory, renderer, report)
    return report


@contextlib.contextmanager
def _sqlite_cache(*, mib: int):
    """A larger SQLite page cache for the run: a festival day adds a million rows to the outbox's
    indexes, and SQLite's default 2 MiB cache would reread index pages from the OS for most of
    them. Put back afterwards (the connection may serve web requests next)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = {-1024 * mib}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


@transaction.atomic
def _write_chunk(pb: Playbook, chunk: list[Candidate], d: Day, config: CareSettings, directory: Directory,
                 renderer: rules.Renderer, report: RunReport) -> None:
    # what exists already goes first: re-running a festival day then reads little more than the keys
    keys = [f"{pb.kind}:{c.member_id}:{c.key}" for c in chunk]
    actions = [c.action or pb.action for c in chunk]
    wants_tasks, wants_messages = Action.TASK in actions, any(a != Action.TASK for a in actions)
    existing_messages = _existing_keys(keys) if wants_messages else set()
    existing_tasks = set(CareTask.objects.filter(
        _among("member_id", sorted({c.member_id for c in chunk})), playbook=pb).values_list(
        "member_id", "occasion_key")) if wants_tasks else set()
    todo = []
    for candidate, dedupe_key, action in zip(chunk, keys, actions, strict=True):
        if ((candidate.member_id, candidate.key) in existing_tasks if action == Action.TASK
                else dedupe_key in existing_messages):
            report.skipped["exists"] += 1
        else:
            todo.append((candidate, dedupe_key, action))
    if not todo:
        return
    ids = sorted({candidate.member_id for candidate, _, _ in todo})
    wanted = set(ids)
    lost = set(MemberChurn.objects.filter(_among("member_id", ids)).values_list("member_id", flat=True))
    members = {m["id"]: m for m in Member.objects.filter(_among("pk", ids), status="active").values(*MEMBER_FIELDS)
               if m["id"] in wanted and m["id"] not in lost}
    levels = {member_id: (rank, name) for member_id, rank, name in MemberTier.objects.filter(
        _among("member_id", ids), tier__isnull=False).values_list("member_id", "tier__rank", "tier__name")}
    labels = member_labels(ids) if wants_tasks else {}  # analytics labels only weigh task priority
    sent_counts = _recent_counts(ids, d) if wants_messages else defaultdict(int)
    channels = pb.parameters.get("channels") or [pb.channel]
    caps = {c: int(config.weekly_caps.get(c, 10**6)) for c in channels}
    send_time = _local_time(d.day, pb.parameters.get("send_time", "10:00"), d.start.tzinfo)
    out_of_quiet: dict = {}  # send time → moved out of quiet hours (one computation per distinct time)
    is_care = pb.kind in CARE_KINDS
    queued = MessageStatus.QUEUED.value
    tasks, messages = [], []
    director = pb.kind == "director_contact"
    consent_fields = [(c, f"consent_{c}") for c in channels]
    for candidate, dedupe_key, action in todo:
        member = members.get(candidate.member_id)
        if member is None:
            report.skipped["inactive"] += 1
            continue
        if action != Action.TASK:
            # the cheap refusals first: on a festival day they spare rendering for many members
            channel = next((c for c, field in consent_fields if member[field]), None)
            if channel is None:
                report.skipped["no_consent"] += 1
                continue
            if sent_counts[(member["id"], channel)] >= caps[channel]:
                report.skipped["cap"] += 1
                continue
        staff_id = directory.director_of(member) if director else directory.manager_of(member)
        store_id = candidate.context.get("visit_store_id") or member["home_store_id"]
        rank, tier_name = levels.get(member["id"], (0, ""))
        context = {"salutation": salutation_zh(member["name"], member["gender"]), "name": member["name"],
                   "staff": directory.names.get(staff_id, ""),
                   "store": directory.stores.get(store_id, directory.organisation),
                   "tier": tier_name, **candidate.context}
        if action == Action.TASK:
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
                reason=(candidate.reason or pb.name)[:200], script=renderer.render(template, context)[0],
                priority=rules.priority(base=pb.priority, rank=rank, labels=labels.get(member["id"])),
            ))
            continue
        body, sales_words = renderer.render(pb.template, context)
        if is_care and sales_words:
            report.skipped["sales_words"] += 1
            continue
        at = candidate.send_at.astimezone(d.start.tzinfo) if candidate.send_at else send_time
        if channel != Channel.EMAIL:
            moved = out_of_quiet.get(at)
            if moved is None:
                moved = out_of_quiet[at] = rules.after_quiet_hours(at, config.quiet_start, config.quiet_end)
            at = moved
        sent_counts[(member["id"], channel)] += 1
        messages.append((member["id"], staff_id, pb.pk, channel, pb.template, pb.name, body, is_care, at, dedupe_key,
                         queued))
    if tasks:
        report.tasks[pb.kind] += len(tasks)
    if messages:
        report.messages[pb.kind] += len(messages)
    CareTask.objects.bulk_create(tasks, ignore_conflicts=True)
    _messages_insert(messages)


def _write_greeting(pb: Playbook, greeting: Greeting, d: Day, config: CareSettings, directory: Directory,
                    renderer: rules.Renderer, report: RunReport) -> None:
    """One greeting to every member of the greeting's queryset, CHUNK members per transaction:
    the same rules as `_write_chunk`, with the members read as plain rows (by id range) and the
    text looked up per (salutation, staff, store) instead of a context built per member."""
    channels = pb.parameters.get("channels") or [pb.channel]
    caps = [int(config.weekly_caps.get(c, 10**6)) for c in channels]
    send_time = _local_time(d.day, pb.parameters.get("send_time", "10:00"), d.start.tzinfo)
    at = [send_time if c == Channel.EMAIL else rules.after_quiet_hours(send_time, config.quiet_start, config.quiet_end)
          for c in channels]
    names = set(rules.template_names(pb.template))
    by_name, by_tier = "name" in names, "tier" in names  # else texts are shared by everyone alike
    is_care, queued, prefix = pb.kind in CARE_KINDS, MessageStatus.QUEUED.value, f"{pb.kind}:"
    suffix = f":{greeting.key}"
    members = (greeting.members.filter(churn__isnull=True).order_by("pk")
               .values_list("pk", "name", "gender", "account_manager_id", "home_store_id",
                            *(f"consent_{c}" for c in channels)))
    texts: dict[tuple, tuple[str, bool]] = {}
    last = 0
    while True:
        sql, params = members.filter(pk__gt=last)[:CHUNK].query.sql_with_params()
        with connection.cursor() as cursor:  # plain rows: no per-field conversion
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not rows:
            return
        last = rows[-1][0]
        with transaction.atomic():
            ids = [row[0] for row in rows]
            existing = _existing_keys([f"{prefix}{i}{suffix}" for i in ids])
            counts = _recent_counts(ids, d)
            tiers = dict(MemberTier.objects.filter(_among("member_id", ids), tier__isnull=False).values_list(
                "member_id", "tier__name")) if by_tier else {}
            out = []
            for member_id, name, gender, manager_id, store_id, *consents in rows:
                dedupe_key = f"{prefix}{member_id}{suffix}"
                if dedupe_key in existing:
                    report.skipped["exists"] += 1
                    continue
                i = next((i for i, consent in enumerate(consents) if consent), None)
                if i is None:
                    report.skipped["no_consent"] += 1
                    continue
                channel = channels[i]
                if counts and counts[(member_id, channel)] >= caps[i]:
                    report.skipped["cap"] += 1
                    continue
                staff_id = manager_id if manager_id in directory.staff else directory.store_manager.get(
                    store_id, directory.fallback)
                salutation = salutation_zh(name, gender)
                tier = tiers.get(member_id, "") if by_tier else ""
                text_key = (salutation, name if by_name else None, staff_id, store_id, tier)
                text = texts.get(text_key)
                if text is None:
                    if len(texts) >= rules.Renderer.LIMIT:  # per-member texts ({{ name }}): keep memory flat
                        texts.clear()
                    body, sales_words = renderer.render(pb.template, {
                        "salutation": salutation, "name": name, "staff": directory.names.get(staff_id, ""),
                        "store": directory.stores.get(store_id, directory.organisation), "tier": tier,
                        **greeting.context})
                    text = texts[text_key] = (body, bool(is_care and sales_words))
                if text[1]:
                    report.skipped["sales_words"] += 1
                    continue
                counts[(member_id, channel)] += 1
                out.append((member_id, staff_id, pb.pk, channel, pb.template, pb.name, text[0], is_care, at[i],
                            dedupe_key, queued))
            _messages_insert(out)
            if out:
                report.messages[pb.kind] += len(out)


def _existing_keys(keys: list[str]) -> set[str]:
    """The dedupe keys already in the outbox (plain SQL: the ORM spends longer preparing a
    10,000-item IN list than the database takes to answer it)."""
    table = connection.ops.quote_name(Message._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT dedupe_key FROM {table} WHERE dedupe_key IN ({', '.join(['%s'] * len(keys))})", keys)
        return {row[0] for row in cursor.fetchall()}


_MESSAGE_COLUMNS = ("member_id", "staff_id", "playbook_id", "channel", "template", "subject", "body", "is_care",
                    "scheduled_at", "dedupe_key", "status", "attempts", "provider_ref", "provider_message_id",
                    "last_error", "created_at")


def provider_refs(n: int, *, native: bool) -> list:
    """`n` fresh provider refs, time-ordered (the UUID version 7 layout: milliseconds, then 74
    random bits), so a million new rows append to the unique index instead of landing at random
    places in it. Hex strings where the database has no UUID type, as Django stores them."""
    ms = time.time_ns() // 1_000_000
    head = ms << 80 | 7 << 76  # version 7
    noise = os.urandom(10 * n)
    refs = []
    for i in range(n):
        rand = int.from_bytes(noise[10 * i:10 * i + 10])
        value = head | (rand >> 68) << 64 | 0b10 << 62 | rand & (1 << 62) - 1  # 12 + 62 random bits, variant 10
        refs.append(uuid.UUID(int=value) if native else f"{value:032x}")
    return refs


def _messages_insert(rows: list[tuple]) -> None:
    """Queued outbox rows in one prepared statement: what `bulk_create` does, without building a
    model instance per message (a festival day writes one per consenting member)."""
    if not rows:
        return
    ops = connection.ops
    created = ops.adapt_datetimefield_value(datetime.datetime.now(datetime.UTC))
    quote = ops.quote_name
    sql = (f"INSERT INTO {quote(Message._meta.db_table)} ({', '.join(map(quote, _MESSAGE_COLUMNS))}) VALUES "
           f"({', '.join(['%s'] * len(_MESSAGE_COLUMNS))}) ON CONFLICT DO NOTHING")
    refs = provider_refs(len(rows), native=connection.features.has_native_uuid_field)
    times: dict = {}  # one adapted value per distinct send time
    params = []
    for (*first, at, dedupe_key, status), ref in zip(rows, refs, strict=True):
        when = times.get(at)
        if when is None:
            when = times[at] = ops.adapt_datetimefield_value(at)
        params.append((*first, when, dedupe_key, status, 0, ref, "", "", created))
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _among(field: str, ids: list[int]) -> Q:
    """`field` in the sorted `ids`: a range when they are dense (a festival day's chunk, read
    through the index without a 10,000-item IN list), the list when they are scattered."""
    if not ids:
        return Q(pk__in=[])
    if ids[-1] - ids[0] < 4 * len(ids):
        return Q(**{f"{field}__gte": ids[0], f"{field}__lte": ids[-1]})
    return Q(**{f"{field}__in": ids})


def _recent_counts(ids: list[int], d: Day) -> defaultdict:
    """Messages per (member, channel) within 6 days either side of the day: a new message keeps
    every 7-day window containing it under the cap, whatever order days are run in."""
    rows = (Message.objects.filter(_among("member_id", ids), scheduled_at__gte=d.ago(6),
                                   scheduled_at__lt=d.start + datetime.timedelta(days=7))
            .exclude(status=MessageStatus.CANCELLED).values("member_id", "channel").annotate(n=Count("id")))
    counts: defaultdict = defaultdict(int)
    for row in rows:
        counts[(row["member_id"], row["channel"])] = row["n"]
    return counts
