"""Reads of sales and refunds for screens, limited to the stores the asking staff member covers."""

import datetime

from django.db.models import Count, Max, Min, QuerySet, Sum
from django.utils import timezone

from vipcare.members.models import Member
from vipcare.org.models import Staff
from vipcare.org.selectors import stores_visible_to
from vipcare.sales.models import Refund, Sale, SaleLine


def _store_ids(staff: Staff) -> list[int] | None:
    """None for staff who see every store, else the ids of their stores."""
    if staff.sees_all_stores:
        return None
    return list(stores_visible_to(staff).values_list("id", flat=True))


def member_sale_lines(*, member: Member, staff: Staff) -> QuerySet[SaleLine]:
    """The member's purchase lines the staff member may see, newest first."""
    lines = SaleLine.objects.filter(member=member).select_related("store").order_by("-sold_at", "-id")
    store_ids = _store_ids(staff)
    return lines if store_ids is None else lines.filter(store_id__in=store_ids)


def member_refunds(*, member: Member, staff: Staff) -> QuerySet[Refund]:
    refunds = Refund.objects.filter(member=member).select_related("store", "sale").order_by("-refunded_at", "-id")
    store_ids = _store_ids(staff)
    return refunds if store_ids is None else refunds.filter(store_id__in=store_ids)


def member_sales(*, member: Member, staff: Staff) -> QuerySet[Sale]:
    sales = Sale.objects.filter(member=member).select_related("store").order_by("-sold_at", "-id")
    store_ids = _store_ids(staff)
    return sales if store_ids is None else sales.filter(store_id__in=store_ids)


def member_purchase_totals(*, member: Member, staff: Staff) -> dict:
    """Spend (net of refunds, fen), visits, first and last purchase and brands bought."""
    sales = member_sales(member=member, staff=staff).order_by()
    agg = sales.aggregate(gross=Sum("total_fen"), visits=Count("id"), first=Min("sold_at"), last=Max("sold_at"))
    refunded = member_refunds(member=member, staff=staff).order_by().aggregate(total=Sum("amount_fen"))["total"] or 0
    brands = (
        member_sale_lines(member=member, staff=staff).order_by().exclude(brand="")
        .values("brand").annotate(n=Count("id"), spend=Sum("amount_fen")).order_by("-spend", "brand")
    )
    return {
        "spend_fen": (agg["gross"] or 0) - refunded,
        "refunded_fen": refunded,
        "visits": agg["visits"],
        "first_purchase": agg["first"],
        "last_purchase": agg["last"],
        "brands": [row["brand"] for row in brands],
    }


def sales_on_day(*, staff: Staff, day: datetime.date | None = None) -> dict:
    """Number and total (fen) of the sales in the staff member's stores on a local day."""
    day = day or timezone.localdate()
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    sales = Sale.objects.filter(sold_at__gte=start, sold_at__lt=start + datetime.timedelta(days=1))
    store_ids = _store_ids(staff)
    if store_ids is not None:
        sales = sales.filter(store_id__in=store_ids)
    else:
        sales = sales.filter(store__organisation_id=staff.organisation_id)
    agg = sales.aggregate(n=Count("id"), total=Sum("total_fen"))
    return {"count": agg["n"], "total_fen": agg["total"] or 0}
