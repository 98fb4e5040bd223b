"""Which members each playbook picks on a day. Each function yields `Candidate`s in member-id
order, reading the database in bulk (one query per playbook, not per member)."""

import dataclasses
import datetime
from collections.abc import Iterator

from django.db.models import Count, DateField, Exists, F, Func, Max, Min, OuterRef, Q, QuerySet
from django.db.models.functions import Mod

from vipcare.care import festivals, rules
from vipcare.care.choices import MessageStatus
from vipcare.care.models import Message, Occasion, Playbook
from vipcare.loyalty.models import MemberTier, PointsAccount, Tier
from vipcare.members.birthdays import birthday_keys_on
from vipcare.members.models import Member
from vipcare.sales.models import Sale


@dataclasses.dataclass
class Candidate:
    member_id: int
    key: str  # occasion key: with playbook and member, unique
    context: dict = dataclasses.field(default_factory=dict)
    reason: str = ""
    action: str | None = None  # overrides the playbook's action (event notice: call or SMS)
    send_at: datetime.datetime | None = None  # overrides the day's send time (thank-you)


@dataclasses.dataclass
class Day:
    day: datetime.date
    start: datetime.datetime  # local midnight, aware
    end: datetime.datetime

    def ago(self, days: int) -> datetime.datetime:
        return self.start - datetime.timedelta(days=days)


class LocalDate(Func):
    """The local calendar date of a datetime column (visits are counted in days).

    Django's TruncDate calls a Python function for every row on SQLite, which is most of the
    falling-off query's time over a year of sales; here SQLite shifts by the zone's UTC offset on
    the day (exact for zones without daylight saving, as China's) and PostgreSQL converts exactly."""

    output_field = DateField()

    def __init__(self, expression, *, day: "Day"):
        super().__init__(expression)
        self.zone = str(day.start.tzinfo)
        self.offset_minutes = int(day.start.utcoffset().total_seconds() // 60)

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"date({sql}, %s)", (*params, f"{self.offset_minutes:+d} minutes")

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} AT TIME ZONE %s)::date", (*params, self.zone)


def _ids(queryset) -> Iterator[int]:
    yield from queryset.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=5000)


def _ranked(min_rank: int):
    return MemberTier.objects.filter(tier__rank__gte=min_rank, member__status="active")


def _top_rank(top_ranks: int) -> int:
    ranks = sorted(Tier.objects.filter(is_active=True).values_list("rank", flat=True), reverse=True)
    return ranks[min(top_ranks, len(ranks)) - 1] if ranks else 10**6


def birthday(pb: Playbook, d: Day) -> Iterator[Candidate]:
    for member_id in _ids(Member.objects.filter(birthday_key__in=birthday_keys_on(d.day), status="active")):
        yield Candidate(member_id, f"{d.day.year}", reason=pb.name)


def birthday_gift(pb: Playbook, d: Day) -> Iterator[Candidate]:
    lead = int(pb.parameters.get("lead_days", 7))
    on = d.day + datetime.timedelta(days=lead)
    top = _top_rank(int(pb.parameters.get("top_ranks", 2)))
    members = Member.objects.filter(birthday_key__in=birthday_keys_on(on), status="active",
                                    tier_state__tier__rank__gte=top)
    for member_id in _ids(members):
        yield Candidate(member_id, f"{on.year}", {"birthday": on.strftime("%m-%d")}, reason=f"{pb.name}（{on:%m-%d}）")


def _consenting_members(pb: Playbook):
    channels = pb.parameters.get("channels") or [pb.channel]
    condition = Q()
    for channel in channels:
        condition |= Q(**{f"consent_{channel}": True})
    return Member.objects.filter(condition, status="active")


@dataclasses.dataclass
class Greeting:
    """The same greeting to every member of a queryset (a festival, a season start): the engine
    writes it set-based instead of member by member."""

    members: QuerySet
    key: str
    context: dict
    reason: str


def holiday_greetings(pb: Playbook, d: Day) -> list[Greeting]:
    chosen = set(pb.parameters.get("festivals", []))
    wishes = pb.parameters.get("wishes", {})
    greetings = []
    for festival in festivals.festivals_on(d.day):
        if festival.key not in chosen:
            continue
        members = _consenting_members(pb)
        gender = pb.parameters.get("gender", {}).get(festival.key)
        if gender:
            members = members.filter(gender=gender)
        context = {"festival": festival.name, "wish": wishes.get(festival.key, f"{festival.name}快乐！")}
        greetings.append(Greeting(members, f"{festival.key}:{d.day.year}", context, festival.name))
    return greetings


def season_greetings(pb: Playbook, d: Day) -> list[Greeting]:
    found = festivals.season_start_on(d.day)
    if found is None:
        return []
    name, term = found
    context = {"term": term, "wish": pb.parameters.get("wishes", {}).get(name, "")}
    return [Greeting(_consenting_members(pb), f"{name}:{d.day.year}", context, term)]


def _each(greetings: list[Greeting]) -> Iterator[Candidate]:
    for greeting in greetings:
        for member_id in _ids(greeting.members):
            yield Candidate(member_id, greeting.key, greeting.context, reason=greeting.reason)


def holiday(pb: Playbook, d: Day) -> Iterator[Candidate]:
    yield from _each(holiday_greetings(pb, d))


def season(pb: Playbook, d: Day) -> Iterator[Candidate]:
    yield from _each(season_greetings(pb, d))


def new_member_call(pb: Playbook, d: Day) -> Iterator[Candidate]:
    after = int(pb.parameters.get("after_days", 7))
    start, end = d.ago(after), d.ago(after - 1)
    earlier = Sale.objects.filter(member_id=OuterRef("member_id"), sold_at__lt=start)
    first = (Sale.objects.filter(sold_at__gte=start, sold_at__lt=end).exclude(Exists(earlier))
             .values_list("member_id", flat=True).distinct().order_by("member_id"))
    for member_id in first:
        yield Candidate(member_id, "first_purchase", reason=pb.name)


def new_member_weekly(pb: Playbook, d: Day) -> Iterator[Candidate]:
    if d.day.weekday() != 0:
        return
    members = Member.objects.filter(status="active", enrolled_at__gte=d.ago(7), enrolled_at__lt=d.start)
    for member_id in _ids(members):
        yield Candidate(member_id, "welcome", reason=pb.name)


def _months_since_epoch(day: datetime.date) -> int:
    return day.year * 12 + day.month - 1


def regular_call(pb: Playbook, d: Day) -> Iterator[Candidate]:
    """Each member has a day of the month (id mod 28, so every month has it) and is called every
    N months by level (or by the analytics strategy)."""
    if d.day.day > 28:
        return
    params = pb.parameters
    by_rank = {int(k): int(v) for k, v in params.get("every_months_by_rank", {}).items()}
    rows = (_ranked(int(params.get("min_rank", 1))).annotate(s=Mod(F("member_id"), 28)).filter(s=d.day.day - 1)
            .values_list("member_id", "tier__rank").order_by("member_id"))
    month = _months_since_epoch(d.day)
    for member_id, rank in rows.iterator(chunk_size=5000):
        every = next((by_rank[r] for r in sorted(by_rank, reverse=True) if rank >= r), 1)
        if (month + member_id) % max(every, 1) == 0:
            yield Candidate(member_id, f"{d.day:%Y-%m}", {"every_months": every}, reason=pb.name)


def director_contact(pb: Playbook, d: Day) -> Iterator[Candidate]:
    """Top VIPs once a period (default a quarter), spread over the period's first 60 days."""
    period = int(pb.parameters.get("period_months", 3))
    month_index = _months_since_epoch(d.day)
    period_start = month_index - month_index % period
    day_of_period = (d.day - datetime.date(period_start // 12, period_start % 12 + 1, 1)).days
    spread = min(60, 28 * period)
    rows = (_ranked(_top_rank(int(pb.parameters.get("top_ranks", 1)))).annotate(s=Mod(F("member_id"), spread))
            .filter(s=day_of_period).values_list("member_id", flat=True).order_by("member_id"))
    for member_id in rows.iterator(chunk_size=5000):
        yield Candidate(member_id, f"{period_start // 12}-P{period_start % 12 // period + 1}", reason=pb.name)


def _last_visits(d: Day, weekday_slot: bool = True):
    sales = Sale.objects.filter(sold_at__lt=d.start)
    if weekday_slot:
        sales = sales.annotate(s=Mod(F("member_id"), 7)).filter(s=d.day.weekday())
    return sales.values("member_id").annotate(last=Max("sold_at"))


def miss_you(pb: Playbook, d: Day) -> Iterator[Candidate]:
    """Members not seen for `absent_days`, at most once every `every_weeks` (on their weekday)."""
    params = pb.parameters
    every = max(int(params.get("every_weeks", 1)), 1)
    week = d.day.isocalendar()
    absent = (_last_visits(d).filter(last__lt=d.ago(int(params.get("absent_days", 90))),
                                     last__gte=d.ago(int(params.get("stop_after_days", 730))))
              .order_by("member_id").values_list("member_id", flat=True))
    for member_id in absent.iterator(chunk_size=5000):
        if (week.week + member_id) % every == 0:
            yield Candidate(member_id, f"{week.year}-W{week.week:02d}", reason=pb.name)


def thank_you(pb: Playbook, d: Day) -> Iterator[Candidate]:
    delay = datetime.timedelta(minutes=int(pb.parameters.get("delay_minutes", 30)))
    visits = (Sale.objects.filter(sold_at__gte=d.start, sold_at__lt=d.end).values("member_id")
              .annotate(last=Max("sold_at"), store_id=Min("store_id")).order_by("member_id"))
    for row in visits:
        yield Candidate(row["member_id"], f"{d.day}", {"visit_store_id": row["store_id"]}, reason=pb.name,
                        send_at=row["last"] + delay)


def falling_off(pb: Playbook, d: Day) -> Iterator[Candidate]:
    """Regulars whose visits fell well below their own pace: the analytics label when there is
    one, else the simple rule (visits in the last 90 days against the last year's rate).
    Checked weekly (on the member's weekday), called at most once a month."""
    params = pb.parameters
    year_ago, quarter_ago = d.ago(365), d.ago(90)
    rows = list(
        Sale.objects.filter(sold_at__gte=year_ago, sold_at__lt=d.start).annotate(s=Mod(F("member_id"), 7))
        .filter(s=d.day.weekday()).annotate(on=LocalDate("sold_at", day=d)).values("member_id")
        .annotate(year=Count("on", distinct=True),
                  recent=Count("on", distinct=True, filter=Q(sold_at__gte=quarter_ago)))
        .order_by("member_id")
    )
    labels = member_labels([row["member_id"] for row in rows])
    for row in rows:
        label = labels.get(row["member_id"])
        if label:
            falling, why = bool(label.get("falling_off")), label.get("falling_off_reason") or ""
        else:
            falling, why = rules.falling_off(visits_last_year=row["year"], visits_last_90_days=row["recent"],
                                             min_visits_per_year=int(params.get("min_visits_per_year", 6)),
                                             ratio=float(params.get("ratio", 0.5)))
        if falling:
            yield Candidate(row["member_id"], f"{d.day:%Y-%m}", {"why": why}, reason=f"{pb.name}：{why}")


def points_milestone(pb: Playbook, d: Day) -> Iterator[Candidate]:
    within = int(pb.parameters.get("within", 1000))
    for milestone in pb.parameters.get("milestones", []):
        rows = (PointsAccount.objects.filter(balance__gte=milestone - within, balance__lt=milestone)
                .values_list("member_id", "balance").order_by("member_id"))
        for member_id, balance in rows.iterator(chunk_size=5000):
            yield Candidate(member_id, f"{milestone}", {"points": balance, "milestone": milestone,
                                                        "gap": milestone - balance}, reason=pb.name)


def points_expiring(pb: Playbook, d: Day) -> Iterator[Candidate]:
    """Members with points lapsing within `within_days` (else the points policy's reminder days):
    one reminder for everything lapsing in that window, naming the first date, and then none
    for the same number of days (rolling expiry lapses a little every day; one message a day
    would be a nuisance). Read from the loyalty lots (remaining points, not yet lapsed)."""
    from vipcare.loyalty.selectors import points_expiring as expiring
    from vipcare.loyalty.selectors import points_policy

    within = int(pb.parameters.get("within_days") or points_policy().reminder_days)
    reminded = set(Message.objects.filter(playbook=pb, scheduled_at__gte=d.ago(within), scheduled_at__lt=d.start)
                   .exclude(status=MessageStatus.CANCELLED).values_list("member_id", flat=True))
    for row in expiring(as_of=d.start, within_days=within):
        if row["member_id"] in reminded:
            continue
        expiry = row["first_expiry"].astimezone(d.start.tzinfo).date()
        yield Candidate(row["member_id"], f"{expiry}", {"points": row["points"], "expiry": f"{expiry:%m月%d日}"},
                        reason=pb.name)


def occasion_notice(pb: Playbook, d: Day) -> Iterator[Candidate]:
    """Members with at least the occasion's level, `days_ahead` before it: a personal call for key
    VIPs, a message for the rest."""
    on = d.day + datetime.timedelta(days=int(pb.parameters.get("days_ahead", 3)))
    for occasion in Occasion.objects.filter(starts_on=on).order_by("pk"):
        context = {"occasion": occasion.name, "starts_on": f"{on:%m月%d日}"}
        rows = _ranked(occasion.min_rank).values_list("member_id", "tier__rank").order_by("member_id")
        for member_id, rank in rows.iterator(chunk_size=5000):
            call = rank >= occasion.call_min_rank
            yield Candidate(member_id, f"occasion:{occasion.pk}", context, reason=f"{occasion.name}（{on:%m-%d}）",
                            action="task" if call else "message")


def member_labels(member_ids: list[int]) -> dict[int, dict]:
    """Analytics labels when the analytics app provides them, else {} (callers fall back)."""
    if not member_ids:
        return {}
    try:
        from vipcare.analytics.selectors import latest_member_labels
    except ImportError:
        return {}
    try:
        return latest_member_labels(member_ids) or {}
    except Exception:  # analytics tables not migrated or empty: the simple rules still work
        return {}


# playbooks whose day is one greeting to many members (the candidates above list them one by one)
GREETINGS = {"holiday": holiday_greetings, "season": season_greetings}

CANDIDATES = {
    "birthday": birthday, "birthday_gift": birthday_gift, "holiday": holiday, "season": season,
    "new_member_call": new_member_call, "new_member_weekly": new_member_weekly, "regular_call": regular_call,
    "director_contact": director_contact, "miss_you": miss_you, "thank_you": thank_you, "falling_off": falling_off,
    "points_milestone": points_milestone, "points_expiring": points_expiring, "occasion_notice": occasion_notice,
}
