"""Writes of the care app (the day's generation lives in playbooks.engine, sending in messaging)."""

import datetime
from collections import Counter

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from vipcare.care import rules
from vipcare.care.choices import (
    CARE_KINDS,
    ChurnReason,
    ComplaintStatus,
    ContactKind,
    GiftStatus,
    TaskOutcome,
    TaskStatus,
)
from vipcare.care.messaging import care_settings, message_enqueue
from vipcare.care.models import (
    CareTask,
    Complaint,
    ComplaintStep,
    ContactRecord,
    Gift,
    GiftItem,
    MemberChurn,
    Playbook,
    Survey,
)
from vipcare.core.audit import audit_record
from vipcare.core.models import AuditAction
from vipcare.members.models import Member
from vipcare.org.choices import Role
from vipcare.org.models import Staff

OUTCOME_SUMMARY = {TaskOutcome.REACHED: "已联系", TaskOutcome.NO_ANSWER: "未接通", TaskOutcome.CALL_BACK: "约定回电",
                   TaskOutcome.DONE: "已完成"}


@transaction.atomic
def playbook_update(*, playbook: Playbook, **fields) -> Playbook:
    """Edit or switch a playbook; a care playbook's template may not contain a sales word."""
    allowed = {"name", "enabled", "template", "parameters", "priority", "channel"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({f: "not editable" for f in unknown})
    template = fields.get("template", playbook.template)
    if playbook.kind in CARE_KINDS:
        texts = [template, *map(str, (fields.get("parameters", playbook.parameters).get("wishes") or {}).values())]
        found = sorted({w for t in texts for w in rules.sales_words_in(t, care_settings().sales_word_list())})
        if found:
            raise ValidationError({"template": f"关怀短信不能提及销售：{'、'.join(found)}"})
    try:
        rules.render(template, {})
    except Exception as exc:
        raise ValidationError({"template": str(exc)}) from exc
    for field, value in fields.items():
        setattr(playbook, field, value)
    playbook.save()
    return playbook


@transaction.atomic
def care_task_complete(*, task: CareTask, staff: Staff, outcome: str, notes: str = "", satisfaction: int | None = None,
                       call_back_at: datetime.datetime | None = None, now: datetime.datetime | None = None
                       ) -> CareTask:
    """Close a task with its outcome; writes the contact record (and a survey answer) on the timeline.
    "Call back" keeps the task open, due on the agreed day."""
    now = now or timezone.now()
    task = CareTask.objects.select_for_update().get(pk=task.pk)
    if task.status != TaskStatus.OPEN:
        raise ValidationError("这项任务已经完成了")
    if outcome not in TaskOutcome.values:
        raise ValidationError({"outcome": "未知的结果"})
    if satisfaction is not None and not 1 <= int(satisfaction) <= 5:
        raise ValidationError({"satisfaction": "满意度为1到5分"})
    if outcome == TaskOutcome.CALL_BACK and call_back_at is None:
        raise ValidationError({"call_back_at": "请填写回电时间"})
    record = ContactRecord.objects.create(
        member_id=task.member_id, staff=staff, kind=ContactKind.GIFT if hasattr(task, "gift") else ContactKind.CALL,
        at=now, summary=f"{task.playbook.name}：{OUTCOME_SUMMARY[outcome]}"[:200], outcome=outcome, notes=notes,
        satisfaction=satisfaction, store_id=task.member.home_store_id,
        task=task if outcome != TaskOutcome.CALL_BACK else None,
    )
    if satisfaction is not None:
        Survey.objects.create(member_id=task.member_id, staff=staff, task=task, score=satisfaction, comment=notes[:300],
                              at=now)
    task.outcome, task.notes, task.satisfaction = outcome, notes, satisfaction
    if outcome == TaskOutcome.CALL_BACK:
        task.call_back_at = call_back_at
        task.due_on = timezone.localtime(call_back_at).date()
        task.due_time = timezone.localtime(call_back_at).time()
    else:
        task.status, task.completed_at = TaskStatus.DONE, now
    task.save()
    del record
    return task


@transaction.atomic
def contact_record_add(*, member: Member, staff: Staff, kind: str, summary: str, notes: str = "",
                       at: datetime.datetime | None = None) -> ContactRecord:
    if kind not in ContactKind.values:
        raise ValidationError({"kind": "未知的类型"})
    if not summary.strip():
        raise ValidationError({"summary": "请填写内容"})
    return ContactRecord.objects.create(member=member, staff=staff, kind=kind, summary=summary.strip()[:200],
                                        notes=notes, at=at or timezone.now(), store_id=member.home_store_id)


@transaction.atomic
def complaint_open(*, member: Member, staff: Staff, description: str, kind: str = "complaint", store=None,
                   now: datetime.datetime | None = None) -> Complaint:
    if not description.strip():
        raise ValidationError({"description": "请描述投诉或建议的内容"})
    now = now or timezone.now()
    hours = care_settings().complaint_response_hours
    complaint = Complaint.objects.create(member=member, store=store or member.home_store, kind=kind,
                                         description=description.strip(), received_by=staff, received_at=now,
                                         respond_by=now + datetime.timedelta(hours=hours))
    ContactRecord.objects.create(member=member, staff=staff, kind=ContactKind.COMPLAINT, at=now,
                                 summary=f"{complaint.get_kind_display()}：{description.strip()}"[:200],
                                 store=complaint.store)
    return complaint


@transaction.atomic
def complaint_step_add(*, complaint: Complaint, staff: Staff, note: str, now=None) -> ComplaintStep:
    if not note.strip():
        raise ValidationError({"note": "请填写处理内容"})
    now = now or timezone.now()
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if complaint.status == ComplaintStatus.RESOLVED:
        raise ValidationError("投诉已解决")
    if complaint.first_response_at is None:
        complaint.first_response_at = now
    complaint.status = ComplaintStatus.IN_PROGRESS
    complaint.save()
    return ComplaintStep.objects.create(complaint=complaint, staff=staff, at=now, note=note.strip())


@transaction.atomic
def complaint_resolve(*, complaint: Complaint, staff: Staff, resolution: str, now=None) -> Complaint:
    """Resolved, and a satisfaction survey call is put on the member's manager's list."""
    if not resolution.strip():
        raise ValidationError({"resolution": "请填写处理结果"})
    now = now or timezone.now()
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if complaint.status == ComplaintStatus.RESOLVED:
        raise ValidationError("投诉已解决")
    complaint.first_response_at = complaint.first_response_at or now
    complaint.status, complaint.resolution, complaint.resolved_at = ComplaintStatus.RESOLVED, resolution.strip(), now
    complaint.save()
    ComplaintStep.objects.create(complaint=complaint, staff=staff, at=now, note=f"解决：{resolution.strip()}"[:300])
    playbook = Playbook.objects.filter(kind="complaint_survey", enabled=True).first()
    if playbook:
        member = complaint.member
        assignee = member.account_manager if member.account_manager and member.account_manager.is_active else staff
        CareTask.objects.get_or_create(
            playbook=playbook, member=member, occasion_key=f"complaint:{complaint.pk}",
            defaults={"assignee": assignee, "reason": playbook.name,
                      "due_on": timezone.localdate(now) + datetime.timedelta(days=int(
                          playbook.parameters.get("after_days", 1))),
                      "script": rules.render(playbook.template, {"salutation": member.name}),
                      "priority": playbook.priority})
    return complaint


@transaction.atomic
def survey_record(*, member: Member, staff: Staff, score: int, comment: str = "", complaint=None, now=None) -> Survey:
    if not 1 <= int(score) <= 5:
        raise ValidationError({"score": "满意度为1到5分"})
    now = now or timezone.now()
    survey = Survey.objects.create(member=member, staff=staff, complaint=complaint, score=score, comment=comment,
                                   at=now)
    ContactRecord.objects.create(member=member, staff=staff, kind=ContactKind.SURVEY, at=now, satisfaction=score,
                                 summary=f"满意度调查：{score}分", notes=comment, store_id=member.home_store_id)
    return survey


@transaction.atomic
def gift_choose(*, task: CareTask, item: GiftItem) -> Gift:
    if not item.is_active:
        raise ValidationError({"item": "该礼品已下架"})
    gift, _ = Gift.objects.get_or_create(member=task.member, occasion_key=f"{task.playbook.kind}:{task.occasion_key}",
                                         defaults={"task": task})
    if gift.status == GiftStatus.MAILED:
        raise ValidationError("礼物已寄出")
    gift.item, gift.status = item, GiftStatus.CHOSEN
    gift.save()
    return gift


@transaction.atomic
def gift_mail(*, gift: Gift, staff: Staff, tracking_no: str = "", now=None) -> Gift:
    """Mailed: recorded on the timeline, and the member told (a message, after sending)."""
    now = now or timezone.now()
    gift = Gift.objects.select_for_update(of=("self",)).select_related("item", "member").get(pk=gift.pk)
    if gift.status != GiftStatus.CHOSEN:
        raise ValidationError("请先从礼品清单中选择礼物")
    gift.status, gift.tracking_no, gift.mailed_at = GiftStatus.MAILED, tracking_no.strip(), now
    gift.save()
    # mailing is what the gift task asked for: it is done, with this record as its outcome
    task = CareTask.objects.filter(pk=gift.task_id, status=TaskStatus.OPEN).first() if gift.task_id else None
    if task is not None:
        task.status, task.outcome, task.completed_at = TaskStatus.DONE, TaskOutcome.DONE, now
        task.save(update_fields=["status", "outcome", "completed_at"])
    ContactRecord.objects.create(member=gift.member, staff=staff, kind=ContactKind.GIFT, at=now,
                                 summary=f"礼物寄出：{gift.item.name}", notes=gift.tracking_no,
                                 store_id=gift.member.home_store_id, task=task)
    from vipcare.care.messaging import NoConsentError

    try:
        message_enqueue(member=gift.member, kind="gift_sent", dedupe_key=f"gift_sent:{gift.pk}", staff=staff, at=now,
                        context={"gift": gift.item.name, "tracking_no": gift.tracking_no})
    except NoConsentError:
        pass  # no channel to tell them on: the staff member tells them in person
    return gift


@transaction.atomic
def member_mark_lost(*, member: Member, reason: str, staff: Staff, note: str = "", now=None) -> MemberChurn:
    """Marked lost (流失) with why; their open tasks are cancelled and no more playbooks pick them."""
    if reason not in ChurnReason.values:
        raise ValidationError({"reason": "请选择流失原因"})
    churn, _ = MemberChurn.objects.update_or_create(
        member=member, defaults={"reason": reason, "note": note, "marked_at": now or timezone.now(),
                                 "marked_by": staff})
    CareTask.objects.filter(member=member, status=TaskStatus.OPEN).update(status=TaskStatus.CANCELLED)
    return churn


def _managers_by_store(exclude: set[int]) -> dict[int, list[Staff]]:
    by_store: dict[int, list[Staff]] = {}
    for staff in (Staff.objects.filter(is_active=True, role=Role.ACCOUNT_MANAGER).exclude(pk__in=exclude)
                  .prefetch_related("stores").order_by("pk")):
        for store in staff.stores.all():
            by_store.setdefault(store.pk, []).append(staff)
    return by_store


def _workloads() -> Counter:
    return Counter(dict(Member.objects.filter(status="active", account_manager__isnull=False)
                        .values_list("account_manager").annotate(n=Count("id")).values_list("account_manager", "n")))


@transaction.atomic
def account_managers_assign(*, by=None, members=None) -> int:
    """Give every active member without an (active) account manager one from their home store:
    the one with the fewest members. Existing assignments (and overrides) are kept."""
    members = members if members is not None else Member.objects.filter(status="active")
    todo = members.filter(Q(account_manager__isnull=True) | Q(account_manager__is_active=False),
                          home_store__isnull=False).order_by("pk")
    by_store, load, assigned = _managers_by_store(set()), _workloads(), 0
    for member in todo.only("pk", "home_store_id"):
        choices = by_store.get(member.home_store_id)
        if not choices:
            continue
        pick = min(choices, key=lambda s: (load[s.pk], s.pk))
        Member.objects.filter(pk=member.pk).update(account_manager=pick)
        load[pick.pk] += 1
        assigned += 1
    if assigned:
        audit_record(user=by, action=AuditAction.ASSIGN_ACCOUNT_MANAGER, detail={"assigned": assigned})
    return assigned


@transaction.atomic
def member_account_manager_set(*, member: Member, manager: Staff, by=None) -> Member:
    """Override the automatic choice."""
    if not manager.is_active or manager.role not in (Role.ACCOUNT_MANAGER, Role.STORE_MANAGER):
        raise ValidationError({"manager": "只能指定在职的客户经理或店长"})
    Member.objects.filter(pk=member.pk).update(account_manager=manager)
    CareTask.objects.filter(member=member, status=TaskStatus.OPEN).update(assignee=manager)
    audit_record(user=by, action=AuditAction.ASSIGN_ACCOUNT_MANAGER, target=member,
                 detail={"account_manager": manager.pk})
    member.account_manager = manager
    return member


@transaction.atomic
def staff_handover(*, leaving: Staff, by=None, to: Staff | None = None, left_on: datetime.date | None = None) -> dict:
    """A staff member leaves: all their members and open tasks go to others in one step (to `to`,
    or balanced over the account managers of each member's home store), logged in the audit log."""
    if to is not None and (to.pk == leaving.pk or not to.is_active):
        raise ValidationError({"to": "请选择另一位在职员工"})
    by_store, load = _managers_by_store({leaving.pk}), _workloads()
    moved_members, moved_tasks = 0, 0
    for member in Member.objects.filter(account_manager=leaving).order_by("pk").only("pk", "home_store_id"):
        choices = [to] if to else by_store.get(member.home_store_id) or []
        pick = min(choices, key=lambda s: (load[s.pk], s.pk)) if choices else None
        Member.objects.filter(pk=member.pk).update(account_manager=pick)
        moved_tasks += CareTask.objects.filter(member_id=member.pk, assignee=leaving, status=TaskStatus.OPEN).update(
            assignee=pick)
        if pick:
            load[pick.pk] += 1
        moved_members += 1
    # open tasks for members they did not manage (director calls, complaint surveys): their store's manager
    for task in CareTask.objects.filter(assignee=leaving, status=TaskStatus.OPEN).select_related("member"):
        pick = to or Staff.objects.filter(is_active=True, role=Role.STORE_MANAGER,
                                          stores=task.member.home_store_id).exclude(pk=leaving.pk).order_by("pk").first()
        CareTask.objects.filter(pk=task.pk).update(assignee=pick)
        moved_tasks += 1
    if left_on is not None:
        Staff.objects.filter(pk=leaving.pk).update(is_active=False, left_on=left_on)
    detail = {"members": moved_members, "tasks": moved_tasks, "to": to.pk if to else None}
    audit_record(user=by, action=AuditAction.STAFF_HANDOVER, target=leaving, detail=detail)
    return detail


@transaction.atomic
def care_defaults_install() -> int:
    """The default playbooks and settings (what migration 0002 installs), for a database that was
    emptied after migrating; keeps whatever already exists. Returns how many playbooks it added."""
    from vipcare.care.defaults import PLAYBOOKS
    from vipcare.care.models import CareSettings, Playbook

    added = sum(Playbook.objects.get_or_create(kind=row["kind"], defaults=row)[1] for row in PLAYBOOKS)
    CareSettings.objects.get_or_create(pk=1)
    return added
