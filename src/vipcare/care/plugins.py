"""Where care plugs into the shared screens (see core/registry.py)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vipcare.core import registry


def _panel(*, member, staff):
    from vipcare.care.selectors import member_open_items

    items = member_open_items(member=member)
    return registry.Panel(title=_("Care: open tasks and complaints"), template="care/partials/_member_panel.html",
                          context={**items, "member": member}, order=50)


def _facts(*, member, staff):
    from vipcare.care.choices import ComplaintStatus
    from vipcare.care.models import Complaint

    n = Complaint.objects.filter(member=member).exclude(status=ComplaintStatus.RESOLVED).count()
    return [(_("Open complaints"), str(n))] if n else []


def _timeline(*, member, staff, limit):
    from vipcare.care.selectors import member_contact_events

    return member_contact_events(member=member, staff=staff, limit=limit)


def register() -> None:
    from vipcare.members.selectors import TIMELINE_SOURCES
    from vipcare.org.choices import Role

    care_roles = frozenset({Role.ADMIN, Role.OPERATIONS_MANAGER, Role.STORE_MANAGER, Role.ACCOUNT_MANAGER})
    if any(item.url_name == "care:today" for item in registry.NAV_ITEMS):
        return
    registry.NAV_ITEMS.extend([
        registry.NavItem(gettext_lazy("Today"), "care:today", care_roles, order=10),
        registry.NavItem(gettext_lazy("Complaints"), "care:complaint_list", care_roles, order=60),
        registry.NavItem(gettext_lazy("VIP attendance"), "care:attendance", frozenset(), order=70),
        registry.NavItem(gettext_lazy("Care plan"), "care:plan", care_roles, order=80),
    ])
    registry.MEMBER_PANELS.append(_panel)
    registry.MEMBER_CARD_FACTS.append(_facts)
    TIMELINE_SOURCES.append(_timeline)
