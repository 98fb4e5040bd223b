"""After the demo's members and sales exist, run the programme's own jobs over them, so every
screen shows something true on first start: levels, points, analytics labels, a day of care.

Everything here goes through the services and commands a real installation runs; nothing is
written directly. Only the last months of sales earn points, to keep `make demo` quick.
"""

import datetime
import io

from django.core.management import call_command
from django.utils import timezone

from vipcare.sales.models import Sale

POINTS_MONTHS = 4


def _end_of_day_before(as_of: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(as_of, datetime.time.min)) - datetime.timedelta(seconds=1)


def bring_to_life(*, as_of: datetime.date, write=print) -> str | None:
    """Run the jobs; returns the username of the account manager with the fullest day."""
    from vipcare.loyalty.services import points_earn_for_sale, tier_review

    yesterday_end = _end_of_day_before(as_of)
    write("Levels: the review over the purchase windows…")
    counts = tier_review(as_of=yesterday_end)
    write(f"  {counts['up']:,} members reached a level")

    since = yesterday_end - datetime.timedelta(days=30 * POINTS_MONTHS)
    sales = Sale.objects.filter(sold_at__gt=since, sold_at__lte=yesterday_end).order_by("sold_at", "pk")
    write(f"Points: earning for the last {POINTS_MONTHS} months of sales…")
    earned = sum(1 for sale in sales.iterator() if points_earn_for_sale(sale=sale, at=sale.sold_at) is not None)
    write(f"  {earned:,} sales earned points")

    write("Offers and stored value: coupon templates and rules, loaded cards, yesterday at the till…")
    from vipcare.programme.demo import programme_demo

    programme_demo(as_of=as_of, write=write)
    from vipcare.rewards.demo import rewards_demo

    rewards_demo(as_of=as_of, write=write)

    write("Analytics: refresh two months ago and today (so the dashboard shows who moved where)…")
    for day in (as_of - datetime.timedelta(days=60), as_of):
        call_command("analytics", "refresh", as_of=day.isoformat(), verbosity=0, stdout=io.StringIO())

    write("Care: account managers, yesterday's and today's tasks and messages…")
    call_command("care", "assign", verbosity=0, stdout=io.StringIO())
    for day in (as_of - datetime.timedelta(days=1), as_of):
        call_command("care", "run", date=day.isoformat(), verbosity=0, stdout=io.StringIO())
    call_command("offers", "issue", date=as_of, verbosity=0, stdout=io.StringIO())

    from django.db.models import Count

    from vipcare.care.models import CareTask

    busiest = (CareTask.objects.filter(assignee__isnull=False).values("assignee__user__username")
               .annotate(n=Count("id")).order_by("-n", "assignee__user__username").first())
    return busiest["assignee__user__username"] if busiest else None
