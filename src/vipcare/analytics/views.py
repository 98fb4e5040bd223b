"""The analytics dashboard, the member list behind each of its cells, and its Excel export."""

from __future__ import annotations

import io

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from vipcare.analytics import selectors
from vipcare.analytics.panels import DASHBOARD_ROLES
from vipcare.core.audit import audit_record
from vipcare.core.masking import mask_phone
from vipcare.core.models import AuditAction
from vipcare.core.views import staff_required
from vipcare.org.models import Store

_RESERVED = {"refresh", "store", "page"}


def _period_and_store(request):
    """The chosen refresh (the period; default: the current one) and store filter."""
    refresh_id = request.GET.get("refresh")
    if refresh_id:
        try:
            refresh = selectors.AnalyticsRefresh.objects.get(pk=int(refresh_id), status="done")
        except (ValueError, selectors.AnalyticsRefresh.DoesNotExist) as exc:
            raise Http404("no such refresh") from exc
    else:
        refresh = selectors.current_refresh()
    try:
        store_id = int(request.GET.get("store") or 0) or None
    except ValueError as exc:
        raise Http404("bad store") from exc
    return refresh, store_id


def _stores(staff):
    return Store.objects.order_by("code") if staff.sees_all_stores else staff.stores.order_by("code")


@staff_required(roles=DASHBOARD_ROLES)
def dashboard(request):
    refresh, store_id = _period_and_store(request)
    context = {"refresh": refresh, "store_id": store_id, "stores": _stores(request.staff),
               "refreshes": selectors.refreshes()}
    if refresh is not None:
        context["list_base"] = f"{reverse('analytics:member_list')}?refresh={refresh.pk}&store={store_id or ''}"
        context["f"] = selectors.dashboard_figures(staff=request.staff, refresh=refresh, store_id=store_id)
    return render(request, "analytics/dashboard.html", context)


def _filters(request) -> dict:
    return {key: value for key, value in request.GET.items() if key not in _RESERVED}


def _rows(request):
    refresh, store_id = _period_and_store(request)
    if refresh is None:
        raise Http404("no analytics yet")
    try:
        return refresh, selectors.member_rows(staff=request.staff, refresh=refresh, filters=_filters(request),
                                              store_id=store_id)
    except ValueError as exc:
        raise Http404(str(exc)) from exc


@staff_required(roles=DASHBOARD_ROLES)
def member_list(request):
    refresh, rows = _rows(request)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "analytics/member_list.html", {
        "refresh": refresh, "page": page, "filters": _filters(request), "query": query.urlencode(),
    })


EXPORT_COLUMNS = ("card_no", "name", "phone", "home_store", "lifecycle", "pyramid", "matrix", "value_curve",
                  "strategy", "rfm", "p_alive", "spend_12m", "clv", "falling_off")


@staff_required(roles=DASHBOARD_ROLES)
def member_export(request):
    """The member list of a cell as an Excel workbook; phones masked; every export is audited."""
    import openpyxl

    refresh, rows = _rows(request)
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Members"))
    sheet.append([_("Card number"), _("Name"), _("Phone"), _("Home store"), _("Lifecycle"), _("Pyramid"),
                  _("Customer matrix"), _("Value curve"), _("Strategy"), "RFM", _("P(active)"),
                  _("12-month spend (yuan)"), _("Lifetime value (yuan)"), _("Falling off")])
    count = 0
    for row in rows.iterator(chunk_size=2000):
        member = row.member
        sheet.append([
            member.card_no, member.name, mask_phone(member.phone),
            member.home_store.name if member.home_store_id else "", row.get_lifecycle_display(),
            row.pyramid, row.get_matrix_display(), row.get_value_curve_display(), row.get_strategy_display(),
            row.rfm, round(row.p_alive, 4) if row.p_alive is not None else None, row.spend_12m_fen / 100,
            row.clv_fen / 100 if row.clv_fen is not None else None, _("Yes") if row.falling_off else "",
        ])
        count += 1
    audit_record(user=request.user, action=AuditAction.EXPORT, request=request,
                 detail={"what": "analytics_members", "refresh": refresh.pk, "as_of": refresh.as_of.isoformat(),
                         "filters": _filters(request), "store": request.GET.get("store") or None, "rows": count})
    buffer = io.BytesIO()
    workbook.save(buffer)
    name = f"members-{refresh.as_of.isoformat()}-{timezone.now():%H%M%S}.xlsx"
    response = HttpResponse(buffer.getvalue(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
