"""Care screens: today's list and completing a task (htmx), complaints, the yearly plan, the
attendance sheet, birthday gifts, marking a member lost and overriding their account manager
(from the member 360), and the staff handover. Views parse, call one service or selector, and
render."""

import datetime
import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from vipcare.care import selectors, services
from vipcare.care.choices import ChurnReason, ComplaintKind, TaskOutcome
from vipcare.care.models import CareTask, Complaint, Gift
from vipcare.core.audit import audit_record
from vipcare.core.models import AuditAction
from vipcare.core.views import staff_required
from vipcare.members.selectors import member_identify, members_visible_to
from vipcare.org.choices import Role

CARE_ROLES = {Role.ADMIN, Role.OPERATIONS_MANAGER, Role.STORE_MANAGER, Role.ACCOUNT_MANAGER}
MANAGER_ROLES = {Role.ADMIN, Role.OPERATIONS_MANAGER, Role.STORE_MANAGER}


def _day(value: str | None) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value) if value else timezone.localdate()
    except ValueError:
        return timezone.localdate()


@staff_required(roles=CARE_ROLES)
def today(request):
    staff, day = request.staff, timezone.localdate()
    context = {"tasks": selectors.tasks_for_today(staff=staff, today=day), "today": day,
               "outcomes": TaskOutcome.choices}
    if staff.role in MANAGER_ROLES:
        context["completion"] = selectors.completion(staff=staff, since=day - datetime.timedelta(days=30), until=day)
    return render(request, "care/today.html", context)


@require_POST
@staff_required(roles=CARE_ROLES)
def task_complete(request, pk: int):
    task = get_object_or_404(selectors.tasks_visible_to(request.staff).select_related("member", "playbook"), pk=pk)
    satisfaction = request.POST.get("satisfaction") or None
    call_back = parse_datetime(request.POST.get("call_back_at") or "")
    if call_back is not None and timezone.is_naive(call_back):
        call_back = timezone.make_aware(call_back)
    error = None
    try:
        task = services.care_task_complete(task=task, staff=request.staff, outcome=request.POST.get("outcome", ""),
                                           notes=request.POST.get("notes", "").strip(),
                                           satisfaction=int(satisfaction) if satisfaction else None,
                                           call_back_at=call_back)
    except (ValidationError, ValueError) as exc:
        error = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    return render(request, "care/partials/_task.html", {"task": task, "error": error,
                                                        "outcomes": TaskOutcome.choices})


@staff_required(roles=CARE_ROLES)
def complaint_list(request):
    staff = request.staff
    error = None
    if request.method == "POST":
        member = member_identify(request.POST.get("member", ""))
        if member is None or not members_visible_to(staff).filter(pk=member.pk).exists():
            error = _("No member with that card number or phone.")
        else:
            try:
                services.complaint_open(member=member, staff=staff, kind=request.POST.get("kind", "complaint"),
                                        description=request.POST.get("description", ""))
                return redirect("care:complaint_list")
            except ValidationError as exc:
                error = "; ".join(exc.messages)
    complaints = selectors.complaints_visible_to(staff)[:200]
    return render(request, "care/complaint_list.html", {"complaints": complaints, "error": error,
                                                        "kinds": ComplaintKind.choices, "now": timezone.now()})


@require_POST
@staff_required(roles=CARE_ROLES)
def complaint_act(request, pk: int):
    complaint = get_object_or_404(selectors.complaints_visible_to(request.staff), pk=pk)
    try:
        if request.POST.get("resolve"):
            services.complaint_resolve(complaint=complaint, staff=request.staff,
                                       resolution=request.POST.get("note", ""))
        else:
            services.complaint_step_add(complaint=complaint, staff=request.staff, note=request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("care:complaint_list")


@staff_required(roles=CARE_ROLES)
def plan(request):
    year = int(request.GET.get("year") or timezone.localdate().year)
    member = None
    if request.GET.get("member"):
        member = get_object_or_404(members_visible_to(request.staff), pk=request.GET["member"])
    rank = int(request.GET.get("rank") or 0)
    rows = selectors.yearly_plan(year=year, member=member, rank=rank)
    title = f"{year} VIP客户营销维护计划表 · " + (member.name if member else f"等级≥{rank}")
    if request.GET.get("format") == "xlsx":
        return _plan_xlsx(request, title, rows, member)
    return render(request, "care/plan.html", {"rows": rows, "year": year, "member": member, "rank": rank,
                                              "title": title})


def _plan_xlsx(request, title, rows, member):
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "计划表"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["月份", "计划沟通", "特别服务", "优惠与活动"])
    for row in rows:
        sheet.append([f"{row['month']}月", "\n".join(row["contacts"]), "\n".join(row["services"]),
                      "\n".join(row["offers"])])
    for column, width in zip("ABCD", (8, 40, 24, 32), strict=True):
        sheet.column_dimensions[column].width = width
    for cells in sheet.iter_rows(min_row=3):
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    book.save(buffer)
    audit_record(user=request.user, action=AuditAction.EXPORT, target=member, detail={"export": "care_plan"},
                 request=request)
    response = HttpResponse(buffer.getvalue(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = 'attachment; filename="vip-plan.xlsx"'
    return response


@staff_required(roles=CARE_ROLES | {Role.CASHIER})
def attendance(request):
    day = _day(request.GET.get("date"))
    return render(request, "care/attendance.html", {"rows": selectors.attendance(staff=request.staff, day=day),
                                                    "day": day})


def _errors(exc: ValidationError) -> str:
    return "; ".join(exc.messages)


@staff_required(roles=CARE_ROLES)
def gifts(request):
    """Birthday gifts to choose from the gift list and to mail."""
    return render(request, "care/gifts.html", {"tasks": selectors.gift_tasks_visible_to(request.staff),
                                               "items": selectors.gift_items()})


@require_POST
@staff_required(roles=CARE_ROLES)
def gift_act(request, pk: int):
    """Choose the gift (`item`), or mark it mailed with its tracking number (`mail`); answers the row."""
    task = get_object_or_404(selectors.gift_tasks_visible_to(request.staff), pk=pk)
    error = None
    try:
        if request.POST.get("mail"):
            gift = Gift.objects.filter(task=task).first()
            if gift is None:
                raise ValidationError(_("Choose a gift from the gift list first."))
            services.gift_mail(gift=gift, staff=request.staff, tracking_no=request.POST.get("tracking_no", ""))
        else:
            item = selectors.gift_items().filter(pk=request.POST.get("item") or 0).first()
            if item is None:
                raise ValidationError(_("Choose a gift from the gift list."))
            services.gift_choose(task=task, item=item)
    except ValidationError as exc:
        error = _errors(exc)
    task = CareTask.objects.select_related("member", "assignee", "gift", "gift__item").get(pk=task.pk)
    context = {"task": task, "items": selectors.gift_items(), "error": error}
    if request.headers.get("HX-Request"):
        return render(request, "care/partials/_gift.html", context)
    if error:
        messages.error(request, error)
    return redirect("care:gifts")


def _member_for(request, pk: int):
    return get_object_or_404(members_visible_to(request.staff), pk=pk)


@require_POST
@staff_required(roles=CARE_ROLES)
def member_lost(request, pk: int):
    """Mark the member lost (流失) with the churn reason, from the member 360."""
    member = _member_for(request, pk)
    try:
        services.member_mark_lost(member=member, reason=request.POST.get("reason", ""), staff=request.staff,
                                  note=request.POST.get("note", "").strip()[:300])
        messages.success(request, _("Marked as lost: %(reason)s") % {
            "reason": ChurnReason(request.POST["reason"]).label})
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    return redirect("members:member_detail", pk=member.pk)


@require_POST
@staff_required(roles=MANAGER_ROLES)
def member_manager(request, pk: int):
    """Override the member's account manager (their open tasks follow), from the member 360."""
    member = _member_for(request, pk)
    manager = selectors.account_manager_choices(request.staff).filter(pk=request.POST.get("manager") or 0).first()
    if manager is None:
        messages.error(request, _("Choose an account manager from your stores."))
    else:
        try:
            services.member_account_manager_set(member=member, manager=manager, by=request.user)
            messages.success(request, _("Account manager is now %(name)s.") % {"name": manager.name})
        except ValidationError as exc:
            messages.error(request, _errors(exc))
    return redirect("members:member_detail", pk=member.pk)


@staff_required(roles=MANAGER_ROLES)
def handover(request):
    """A staff member leaves: their members and open tasks go to a chosen colleague, or are
    balanced over their stores' account managers, in one step."""
    people = selectors.staff_in_scope(request.staff).exclude(pk=request.staff.pk)
    receivers = selectors.account_manager_choices(request.staff)
    error = None
    if request.method == "POST":
        leaving = people.filter(pk=request.POST.get("leaving") or 0).first()
        to = receivers.filter(pk=request.POST.get("to")).first() if request.POST.get("to") else None
        left_on = None
        try:
            if request.POST.get("left_on"):
                left_on = datetime.date.fromisoformat(request.POST["left_on"])
            if leaving is None:
                raise ValidationError(_("Choose the staff member who is leaving."))
            if request.POST.get("to") and to is None:
                raise ValidationError(_("Choose who receives the members from your stores."))
            detail = services.staff_handover(leaving=leaving, to=to, left_on=left_on, by=request.user)
        except ValueError:
            error = _("The leaving date must be a date.")
        except ValidationError as exc:
            error = _errors(exc)
        else:
            messages.success(request, _("%(name)s handed over: %(members)s members and %(tasks)s open tasks.") % {
                "name": leaving.name, "members": detail["members"], "tasks": detail["tasks"]})
            return redirect("care:handover")
    return render(request, "care/handover.html", {
        "people": people, "receivers": receivers, "error": error, "form": request.POST,
        "recent": selectors.handovers_recent(request.staff), "today": timezone.localdate()})


def _deny():
    raise PermissionDenied


__all__ = ["today", "task_complete", "complaint_list", "complaint_act", "plan", "attendance", "gifts", "gift_act",
           "member_lost", "member_manager", "handover", "CareTask", "Complaint"]
