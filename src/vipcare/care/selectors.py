"""Reads of the care app: today's list, completion, the member panel and timeline, the yearly
plan, the attendance sheet."""

import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from vipcare.care import festivals
from vipcare.care.choices import ComplaintStatus, TaskStatus
from vipcare.care.models import CareTask, Complaint, ContactRecord, Occasion, Playbook
from vipcare.members.models import Member
from vipcare.org.choices import Role
from vipcare.org.models import Staff


def tasks_for_today(*, staff: Staff, today: datetime.date | None = None) -> QuerySet[CareTask]:
    """The staff member's open tasks due today or earlier (overdue ones stay on the list)."""
    today = today or timezone.localdate()
    return (CareTask.objects.filter(assignee=staff, status=TaskStatus.OPEN, due_on__lte=today)
            .select_related("member", "playbook").order_by("due_on", "-priority", "due_time", "pk"))


def tasks_visible_to(staff: Staff) -> QuerySet[CareTask]:
    tasks = CareTask.objects.all()
    if staff.sees_all_stores:
        return tasks
    if staff.role == Role.STORE_MANAGER:
        stores = staff.stores.all()
        return tasks.filter(Q(assignee=staff) | Q(member__home_store__in=stores) | Q(assignee__stores__in=stores)
                            ).distinct()
    return tasks.filter(assignee=staff)


def completion(*, staff: Staff, since: datetime.date, until: datetime.date) -> dict:
    """Tasks due in the period, done and open, by staff and by playbook (for store managers)."""
    tasks = tasks_visible_to(staff).filter(due_on__gte=since, due_on__lte=until).exclude(status=TaskStatus.CANCELLED)
    done = Count("id", filter=Q(status=TaskStatus.DONE))

    def rows(*fields):
        return list(tasks.values(*fields).annotate(total=Count("id"), done=done).order_by(*fields))

    return {"by_staff": rows("assignee__name"), "by_playbook": rows("playbook__name")}


def member_open_items(*, member: Member) -> dict:
    return {
        "tasks": list(CareTask.objects.filter(member=member, status=TaskStatus.OPEN).select_related("assignee",
                                                                                                   "playbook")[:10]),
        "complaints": list(Complaint.objects.filter(member=member).exclude(status=ComplaintStatus.RESOLVED)[:10]),
    }


def member_contact_events(*, member, staff=None, limit: int = 30) -> list[dict]:
    """The maintenance record as timeline events."""
    return [{"at": r.at, "kind": f"care-{r.kind}", "title": r.summary, "detail": r.notes[:80], "store": r.store,
             "amount_fen": None}
            for r in ContactRecord.objects.filter(member=member).select_related("store", "staff")[:limit]]


def complaints_visible_to(staff: Staff) -> QuerySet[Complaint]:
    complaints = Complaint.objects.select_related("member", "store", "received_by")
    if not staff.sees_all_stores:
        complaints = complaints.filter(Q(store__in=staff.stores.all()) | Q(member__account_manager=staff))
    return complaints


MONTHS = range(1, 13)


def yearly_plan(*, year: int, member: Member | None = None, rank: int | None = None) -> list[dict]:
    """VIP客户营销维护计划表: per month the planned contacts, special services and offers, from the
    enabled playbooks, the festival calendar and the VIP events."""
    from vipcare.loyalty.selectors import member_tier

    playbooks = {p.kind: p for p in Playbook.objects.filter(enabled=True)}
    if member is not None:
        tier = member_tier(member)
        rank = tier.rank if tier else 0
    rank = rank or 0
    chosen = set(playbooks["holiday"].parameters.get("festivals", [])) if "holiday" in playbooks else set()
    names = {f.key: f.name for f in festivals.ALL_FESTIVALS}
    fest = {k: v for k, v in festivals.festival_dates(year).items() if k in chosen}
    seasons = festivals.season_dates(year) if "season" in playbooks else {}
    birthday_month = None
    if member is not None and member.birthday:
        from vipcare.members.birthdays import next_celebration

        birthday_month = next_celebration(member.birthday, member.birthday_calendar, datetime.date(year, 1, 1)).month
    call_every = 1
    if "regular_call" in playbooks:
        by_rank = {int(k): int(v) for k, v in playbooks["regular_call"].parameters.get("every_months_by_rank",
                                                                                        {}).items()}
        call_every = next((by_rank[r] for r in sorted(by_rank, reverse=True) if rank >= r), 0) if rank else 0
    occasions = Occasion.objects.filter(starts_on__year=year, min_rank__lte=max(rank, 0))
    plan = []
    for month in MONTHS:
        contacts, services, offers = [], [], []
        for key, day in sorted(fest.items(), key=lambda kv: kv[1]):
            if day.month == month:
                contacts.append(f"{names[key]}问候（{day:%m-%d}）")
        for day in seasons.values():
            if day.month == month:
                contacts.append(f"换季关怀（{day:%m-%d}）")
        if call_every and (month - 1) % call_every == 0:
            contacts.append("电话问候")
        if birthday_month == month:
            contacts.append("生日祝福")
            if "birthday_gift" in playbooks:
                services.append("生日礼物")
        if month in (1, 4, 7, 10) and "director_contact" in playbooks and rank >= 3:
            services.append("店长亲自联系")
        for occasion in occasions:
            if occasion.starts_on.month == month:
                offers.append(f"{occasion.name}（{occasion.starts_on:%m-%d}）")
        plan.append({"month": month, "contacts": contacts, "services": services, "offers": offers})
    return plan


def attendance(*, staff: Staff, day: datetime.date) -> list[dict]:
    """VIP考勤表: the members who came on `day`, where, and who served them."""
    from vipcare.sales.models import Sale
    from vipcare.sales.selectors import _store_ids

    tz = timezone.get_current_timezone()
    start = datetime.datetime(day.year, day.month, day.day, tzinfo=tz)
    sales = Sale.objects.filter(sold_at__gte=start, sold_at__lt=start + datetime.timedelta(days=1))
    store_ids = _store_ids(staff)
    if store_ids is not None:
        sales = sales.filter(store_id__in=store_ids)
    rows: dict[int, dict] = {}
    for sale in sales.select_related("member", "store", "staff").order_by("sold_at"):
        row = rows.setdefault(sale.member_id, {"member": sale.member, "first": sale.sold_at, "stores": [],
                                               "served_by": [], "total_fen": 0, "receipts": 0})
        if sale.store.name not in row["stores"]:
            row["stores"].append(sale.store.name)
        if sale.staff and sale.staff.name not in row["served_by"]:
            row["served_by"].append(sale.staff.name)
        row["total_fen"] += sale.total_fen
        row["receipts"] += 1
    return list(rows.values())


def gift_tasks_visible_to(staff: Staff) -> QuerySet[CareTask]:
    """Birthday-gift tasks still to do: open ones, and any whose gift is chosen but not mailed."""
    from vipcare.care.choices import GiftStatus

    return (tasks_visible_to(staff).filter(playbook__kind="birthday_gift")
            .filter(Q(status=TaskStatus.OPEN) | Q(gift__status=GiftStatus.CHOSEN))
            .select_related("member", "assignee", "gift", "gift__item").order_by("due_on", "-priority", "pk"))


def gift_items() -> QuerySet:
    from vipcare.care.models import GiftItem

    return GiftItem.objects.filter(is_active=True).order_by("name")


def staff_in_scope(staff: Staff) -> QuerySet[Staff]:
    """Active staff a manager may hand work to or from: their own stores' (everyone's for
    operations and administrators)."""
    people = Staff.objects.filter(is_active=True)
    if not staff.sees_all_stores:
        people = people.filter(stores__in=staff.stores.all()).distinct()
    return people.order_by("name", "pk")


def account_manager_choices(staff: Staff) -> QuerySet[Staff]:
    return staff_in_scope(staff).filter(role__in=(Role.ACCOUNT_MANAGER, Role.STORE_MANAGER))


def handovers_recent(staff: Staff, limit: int = 20) -> list[dict]:
    """The last handovers (from the audit log) of staff from the manager's stores (all for
    operations and administrators), newest first."""
    from vipcare.core.models import AuditAction, AuditLogEntry

    leavers = Staff.objects.all()
    if not staff.sees_all_stores:
        leavers = leavers.filter(stores__in=staff.stores.all())
    ids = [str(pk) for pk in leavers.values_list("pk", flat=True).distinct()]
    entries = list(AuditLogEntry.objects.filter(action=AuditAction.STAFF_HANDOVER, target_id__in=ids)
                   .select_related("user")[:limit])
    people = Staff.objects.in_bulk({int(e.target_id) for e in entries} | {e.detail.get("to") for e in entries
                                                                          if e.detail.get("to")})
    return [{"at": e.at, "leaving": people.get(int(e.target_id)), "to": people.get(e.detail.get("to")),
             "members": e.detail.get("members", 0), "tasks": e.detail.get("tasks", 0), "by": e.user}
            for e in entries]
