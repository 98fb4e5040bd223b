"""Care screens: today's list and completing a task (htmx), complaints, the yearly plan, the
attendance sheet. Views parse, call one service or selector, and render."""

import datetime
import io

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from vipcare.care import selectors, services
from vipcare.care.choices import ComplaintKind, TaskOutcome
from vipcare.care.models import CareTask, Complaint
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
        from django.contrib import messages

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


def _deny():
    raise PermissionDenied


__all__ = ["today", "task_complete", "complaint_list", "complaint_act", "plan", "attendance", "CareTask",
           "Complaint"]
