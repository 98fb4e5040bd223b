"""The home page and the access rule every staff screen shares."""

import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone

from vipcare.members.selectors import members_visible_to
from vipcare.org.selectors import staff_for_user
from vipcare.sales.selectors import sales_on_day


def staff_required(view=None, *, roles=None):
    """Login required, and a active Staff profile (else 403); optionally one of `roles`.

    The view gets the Staff as `request.staff`.
    """

    def decorate(view):
        @login_required
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            staff = staff_for_user(request.user)
            if staff is None or not staff.is_active:
                raise PermissionDenied("no staff profile")
            if roles is not None and staff.role not in roles:
                raise PermissionDenied("role not allowed")
            request.staff = staff
            return view(request, *args, **kwargs)

        return wrapped

    return decorate(view) if view is not None else decorate


def _greeting_period(hour: int) -> str:
    return "morning" if 5 <= hour < 12 else "afternoon" if 12 <= hour < 18 else "evening"


@staff_required
def home(request):
    staff = request.staff
    context = {
        "period": _greeting_period(timezone.localtime().hour),
        "member_count": members_visible_to(staff).count(),
        "today": sales_on_day(staff=staff),
    }
    return render(request, "core/home.html", context)
