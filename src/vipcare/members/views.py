"""Staff screens of the member archive: search, the member 360 page, the one-glance card,
enrolment and editing, duplicates, the archive ranking and the Excel export.

Views parse the request, call one selector or service and render. Who may see what is
written down in docs/ui.md.
"""

import datetime
import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from vipcare.core import masking
from vipcare.core.audit import audit_record
from vipcare.core.models import AuditAction
from vipcare.core.registry import member_card_facts, member_panels
from vipcare.core.views import staff_required
from vipcare.members import birthdays, cards, services
from vipcare.members.choices import Channel, MemberStatus
from vipcare.members.forms import MemberForm, MemberSearchForm
from vipcare.members.models import SOFT_ARCHIVE_FIELDS, Member, MemberFieldDefinition
from vipcare.members.selectors import (
    account_managers_for,
    duplicate_groups,
    member_identify,
    member_search,
    member_timeline,
    members_visible_to,
    personal_data_revealable,
    staff_archive_ranking,
)
from vipcare.org.choices import ALL_STORE_ROLES
from vipcare.org.selectors import stores_visible_to
from vipcare.sales.selectors import member_purchase_totals, member_sale_lines

PAGE_SIZE = 25
PURCHASES_PAGE_SIZE = 15
EXPORT_LIMIT = 20000
# Members identified at the counter (phone, card, QR) whose card this session may open.
IDENTIFIED_SESSION_KEY = "vipcare_identified_members"
IDENTIFIED_KEEP = 30


# --- helpers ---------------------------------------------------------------------------------


def _remember_identified(request, member: Member) -> None:
    ids = [pk for pk in request.session.get(IDENTIFIED_SESSION_KEY, []) if pk != member.pk]
    request.session[IDENTIFIED_SESSION_KEY] = [member.pk, *ids][:IDENTIFIED_KEEP]


def _visible_member(request, pk: int) -> Member:
    """A member the staff member's stores cover (404 otherwise)."""
    members = members_visible_to(request.staff).select_related("home_store", "account_manager", "registered_by")
    return get_object_or_404(members, pk=pk)


def _personal_data(member: Member, *, revealed: bool) -> list[tuple[str, str, str]]:
    """(key, label, value) of the personal data, masked unless revealed."""
    birthday = member.birthday
    rows = [
        ("phone", _("Phone"), member.phone if revealed else masking.mask_phone(member.phone)),
        ("email", _("Email"), member.email if revealed else masking.mask_email(member.email)),
        ("address", _("Address"), member.address if revealed else masking.mask_text(member.address)),
        ("id_number", _("ID number"), member.id_number if revealed else masking.mask_id_number(member.id_number)),
        ("birthday", _("Birthday"),
         (birthday.isoformat() if birthday else "") if revealed else masking.mask_date(birthday)),
    ]
    return rows


def _masked_placeholders(member: Member) -> dict:
    return {key: value for key, _label, value in _personal_data(member, revealed=False)}


def _occasion(member: Member, today: datetime.date) -> dict | None:
    """Today's occasion: the birthday today or within the next 7 days."""
    if member.birthday is None:
        return None
    celebration = birthdays.next_celebration(member.birthday, member.birthday_calendar, today)
    days = (celebration - today).days
    if days > 7:
        return None
    return {"date": celebration, "days": days, "lunar": member.birthday_calendar == "lunar"}


def _extra_values(member: Member) -> list[tuple[str, str]]:
    definitions = MemberFieldDefinition.objects.all()
    return [(d.label, (member.extra or {}).get(d.key, "")) for d in definitions]


def _consents(member: Member) -> list[tuple[str, str, bool]]:
    return [(c.value, c.label, member.consents_to(c.value)) for c in Channel]


def _search_form(request) -> MemberSearchForm:
    staff = request.staff
    return MemberSearchForm(request.GET or None, stores=stores_visible_to(staff).order_by("code"),
                            managers=account_managers_for(staff=staff))


def _member_form_choices(staff, member: Member | None = None) -> dict:
    """Stores and account managers a form may pick; a member's current ones always stay choosable."""
    from vipcare.org.models import Staff, Store

    stores, managers = stores_visible_to(staff), account_managers_for(staff=staff)
    if member is not None and member.home_store_id:
        stores = Store.objects.filter(Q(pk__in=stores.values("pk")) | Q(pk=member.home_store_id))
    if member is not None and member.account_manager_id:
        managers = Staff.objects.filter(Q(pk__in=managers.values("pk")) | Q(pk=member.account_manager_id))
    return {"stores": stores.order_by("code"), "managers": managers.order_by("name", "staff_no")}


# --- search ----------------------------------------------------------------------------------


@staff_required
def member_list(request):
    staff = request.staff
    form = _search_form(request)
    search = form.search_kwargs()
    query = search["query"]
    if query and not request.htmx and request.GET.get("exact", "1") != "0":
        # A phone, card number or QR payload that names one member goes straight to them.
        found = member_identify(query)
        if found is not None:
            return _open_identified(request, found)
    members = member_search(staff=staff, **search)
    page = Paginator(members, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(m, masking.mask_phone(m.phone)) for m in page.object_list]
    params = request.GET.copy()
    params.pop("page", None)
    context = {"form": form, "page": page, "rows": rows, "params": params.urlencode(),
               "may_reveal": staff.may_reveal_personal_data}
    template = "members/partials/_member_rows.html" if request.htmx else "members/member_list.html"
    return render(request, template, context)


def _open_identified(request, member: Member):
    """Open an identified member: the 360 page if the staff's stores cover them, else the card."""
    if members_visible_to(request.staff).filter(pk=member.pk).exists():
        return redirect("members:member_detail", pk=member.pk)
    _remember_identified(request, member)
    return redirect("members:member_card", pk=member.pk)


@staff_required
def member_lookup(request):
    """The quick lookup at the counter: phone, card number or QR payload → the member card."""
    query = (request.GET.get("q") or "").strip()
    member = member_identify(query) if query else None
    if member is None:
        if query:
            messages.info(request, _("No member has this phone or card number; showing the search instead."))
        params = request.GET.copy()
        params["exact"] = "0"
        return redirect(reverse("members:member_list") + "?" + params.urlencode())
    _remember_identified(request, member)
    return redirect("members:member_card", pk=member.pk)


# --- the member 360 page ---------------------------------------------------------------------


@staff_required
def member_detail(request, pk: int):
    staff = request.staff
    member = _visible_member(request, pk)
    today = timezone.localdate()
    lines = member_sale_lines(member=member, staff=staff)
    context = {
        "member": member,
        "personal": _personal_data(member, revealed=False),
        "revealed": False,
        "may_reveal": personal_data_revealable(staff=staff, member=member),
        "soft": [(Member._meta.get_field(f).verbose_name, getattr(member, f)) for f in SOFT_ARCHIVE_FIELDS],
        "extra": _extra_values(member),
        "consents": _consents(member),
        "qr_svg": cards.qr_svg(member.card_no, scale=4),
        "totals": member_purchase_totals(member=member, staff=staff),
        "purchases": Paginator(lines, PURCHASES_PAGE_SIZE).get_page(1),
        "timeline": member_timeline(member=member, staff=staff),
        "occasion": _occasion(member, today),
        "age": birthdays.age_on(member.birthday, today) if member.birthday else None,
        "scoped": not staff.sees_all_stores,
        "panels": member_panels(member=member, staff=staff),
    }
    return render(request, "members/member_detail.html", context)


@staff_required
def member_purchases(request, pk: int):
    member = _visible_member(request, pk)
    lines = member_sale_lines(member=member, staff=request.staff)
    page = Paginator(lines, PURCHASES_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "members/partials/_purchases.html", {"member": member, "purchases": page})


@require_POST
@staff_required
def member_reveal(request, pk: int):
    """Show the personal data unmasked, once, and write it in the audit log."""
    staff = request.staff
    member = _visible_member(request, pk)
    if not personal_data_revealable(staff=staff, member=member):
        raise PermissionDenied("this role may not see personal data unmasked")
    personal = _personal_data(member, revealed=True)
    audit_record(user=request.user, action=AuditAction.VIEW_PERSONAL_DATA, target=member, request=request,
                 detail={"fields": [key for key, _label, value in personal if value]})
    context = {"member": member, "personal": personal, "revealed": True, "may_reveal": True}
    if request.htmx:
        return render(request, "members/partials/_personal_data.html", context)
    return render(request, "members/member_revealed.html", context)


# --- the one-glance member card --------------------------------------------------------------


@staff_required
def member_card(request, pk: int):
    staff = request.staff
    identified = pk in request.session.get(IDENTIFIED_SESSION_KEY, [])
    visible = members_visible_to(staff).filter(pk=pk).exists()
    if not (identified or visible):
        raise Http404
    member = get_object_or_404(Member.objects.select_related("home_store", "account_manager"), pk=pk)
    if member.status == MemberStatus.MERGED and member.merged_into_id:
        if identified:
            _remember_identified(request, member.merged_into)
        return redirect("members:member_card", pk=member.merged_into_id)
    lines = member_sale_lines(member=member, staff=staff)
    totals = member_purchase_totals(member=member, staff=staff)
    context = {
        "member": member,
        "visible": visible,
        "recent": list(lines[:3]),
        "last_visit": totals["last_purchase"],
        "occasion": _occasion(member, timezone.localdate()),
        "scoped": not staff.sees_all_stores,
        "facts": member_card_facts(member=member, staff=staff),
    }
    return render(request, "members/member_card.html", context)


# --- enrolment, editing, consent -------------------------------------------------------------


@staff_required
def member_create(request):
    staff = request.staff
    choices = _member_form_choices(staff)
    stores = list(choices["stores"][:2])
    initial = {"home_store": stores[0].pk} if len(stores) == 1 else {}  # a store's staff enrol for their store
    form = MemberForm(request.POST or None, initial=initial, **choices)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.member_enroll(registered_by=staff, **form.service_fields())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Member %(name)s enrolled, card %(card_no)s.")
                             % {"name": member.name, "card_no": member.card_no})
            if members_visible_to(staff).filter(pk=member.pk).exists():
                return redirect("members:member_detail", pk=member.pk)
            _remember_identified(request, member)
            return redirect("members:member_card", pk=member.pk)
    return render(request, "members/member_form.html", {"form": form, "member": None})


@staff_required
def member_update(request, pk: int):
    staff = request.staff
    member = _visible_member(request, pk)
    form = MemberForm(request.POST or None, member=member, masked=_masked_placeholders(member),
                      **_member_form_choices(staff, member))
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(member=member, changed_by=request.user, request=request,
                                   **form.service_fields())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("members:member_detail", pk=member.pk)
    return render(request, "members/member_form.html", {"form": form, "member": member})


@require_POST
@staff_required
def member_consent(request, pk: int):
    """Turn one channel's marketing consent on or off (PIPL)."""
    member = _visible_member(request, pk)
    channel = request.POST.get("channel", "")
    if channel not in Channel.values:
        return HttpResponse(_("Unknown channel."), status=400)
    member = services.member_update(member=member, changed_by=request.user, request=request,
                                    **{f"consent_{channel}": request.POST.get("value") == "on"})
    context = {"member": member, "consents": _consents(member)}
    if request.htmx:
        return render(request, "members/partials/_consent.html", context)
    return redirect("members:member_detail", pk=member.pk)


# --- duplicates and merging ------------------------------------------------------------------


@staff_required(roles=ALL_STORE_ROLES)
def duplicate_list(request):
    from django.db.models import prefetch_related_objects

    groups = duplicate_groups()
    prefetch_related_objects([m for group in groups for m in group], "home_store")
    rows = [[(m, masking.mask_phone(m.phone), masking.mask_id_number(m.id_number)) for m in group]
            for group in groups]
    return render(request, "members/duplicate_list.html", {"groups": rows})


@staff_required(roles=ALL_STORE_ROLES)
def member_merge(request):
    """Confirm (GET) and merge (POST) a duplicate card into the member kept."""
    source = request.POST if request.method == "POST" else request.GET
    try:
        keep_id, duplicate_id = int(source.get("keep", "")), int(source.get("duplicate", ""))
    except ValueError:
        return HttpResponse(_("Choose the member to keep and the duplicate."), status=400)
    active = Member.objects.filter(status=MemberStatus.ACTIVE).select_related("home_store")
    keep = get_object_or_404(active, pk=keep_id)
    duplicate = get_object_or_404(active, pk=duplicate_id)
    if request.method == "POST":
        try:
            keep = services.member_merge(keep=keep, duplicate=duplicate, merged_by=request.user, request=request)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("members:duplicate_list")
        messages.success(request, _("Card %(card_no)s was merged into %(name)s.")
                         % {"card_no": duplicate.card_no, "name": keep.name})
        return redirect("members:member_detail", pk=keep.pk)
    pair = [(m, masking.mask_phone(m.phone), m.sales.count()) for m in (keep, duplicate)]
    return render(request, "members/member_merge.html", {"keep": keep, "duplicate": duplicate, "pair": pair})


# --- archive ranking -------------------------------------------------------------------------


@staff_required
def archive_ranking(request):
    ranking = staff_archive_ranking(staff=request.staff)
    return render(request, "members/archive_ranking.html", {"ranking": ranking})


# --- export ----------------------------------------------------------------------------------


def _audit_safe(value):
    """A search term as the audit log keeps it: a phone or card number is masked."""
    if isinstance(value, str) and sum(c.isdigit() for c in value) >= 7:
        return masking.mask_phone(value)
    return value


@staff_required
def member_export(request):
    """The current search as an Excel file; personal data masked unless asked for and allowed."""
    from openpyxl import Workbook

    staff = request.staff
    form = _search_form(request)
    search = form.search_kwargs()
    want_unmasked = request.GET.get("reveal") == "1"
    if want_unmasked and not staff.may_reveal_personal_data:
        raise PermissionDenied("this role may not export personal data unmasked")
    members = list(member_search(staff=staff, **search)[:EXPORT_LIMIT])
    store_ids = None if staff.sees_all_stores else set(staff.stores.values_list("id", flat=True))

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Members"))
    sheet.append([_("Card number"), _("Name"), _("Gender"), _("Phone"), _("Email"), _("Birthday"), _("Address"),
                  _("Home store"), _("Account manager"), _("Enrolled"), _("Completeness (quantity)"),
                  _("Completeness (quality)")])
    unmasked_rows = 0
    for m in members:
        revealed = want_unmasked and personal_data_revealable(staff=staff, member=m, store_ids=store_ids)
        unmasked_rows += revealed
        personal = {key: value for key, _label, value in _personal_data(m, revealed=revealed)}
        sheet.append([
            m.card_no, m.name, m.get_gender_display(), personal["phone"], personal["email"], personal["birthday"],
            personal["address"], m.home_store.name if m.home_store else "",
            m.account_manager.name if m.account_manager else "",
            timezone.localtime(m.enrolled_at).strftime("%Y-%m-%d %H:%M"),
            m.completeness_quantity, m.completeness_quality,
        ])
    audit_record(user=request.user, action=AuditAction.EXPORT, request=request, detail={
        "what": "members", "rows": len(members), "unmasked_rows": unmasked_rows,
        "filters": {k: _audit_safe(v) for k, v in search.items() if v},
    })
    buffer = io.BytesIO()
    workbook.save(buffer)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(buffer.getvalue(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="members-{stamp}.xlsx"'
    return response
