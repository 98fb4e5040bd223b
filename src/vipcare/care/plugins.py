"""Where care plugs into the shared screens (see core/registry.py)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vipcare.core import registry


def _panel(*, member, staff):
    from vipcare.care.choices import ChurnReason
    from vipcare.care.models import MemberChurn
    from vipcare.care.selectors import account_manager_choices, member_open_items
    from vipcare.care.views import CARE_ROLES, MANAGER_ROLES

    items = member_open_items(member=member)
    context = {**items, "member": member, "churn": MemberChurn.objects.filter(member=member).first()}
    if staff is not None and staff.role in CARE_ROLES:
        context["churn_reasons"] = ChurnReason.choices
    if staff is not None and staff.role in MANAGER_ROLES:
        context["managers"] = list(account_manager_choices(staff))
    return registry.Panel(title=_("Care: open tasks and complaints"), template="care/partials/_member_panel.html",
                          context=context, order=50)


def _facts(*, member, staff):
    from vipcare.care.choices import ComplaintStatus
    from vipcare.care.models import Complaint, MemberChurn

    facts = []
    n = Complaint.objects.filter(member=member).exclude(status=ComplaintStatus.RESOLVED).count()
    if n:
        facts.append((_("Open complaints"), str(n)))
    churn = MemberChurn.objects.filter(member=member).first()
    if churn is not None:
        facts.append((_("Lost"), churn.get_reason_display()))
    return facts


def _timeline(*, member, staff, limit):
    from vipcare.care.selectors import member_contact_events

    return member_contact_events(member=member, staff=staff, limit=limit)


def register() -> None:
    from vipcare.members.selectors import TIMELINE_SOURCES
    from vipcare.org.choices import Role

    care_roles = frozenset({Role.ADMIN, Role.OPERATIONS_MANAGER, Role.STORE_MANAGER, Role.ACCOUNT_MANAGER})
    manager_roles = frozenset({Role.ADMIN, Role.OPERATIONS_MANAGER, Role.STORE_MANAGER})
    if any(item.url_name == "care:today" for item in registry.NAV_ITEMS):
        return
    registry.NAV_ITEMS.extend([
        registry.NavItem(gettext_lazy("Today"), "care:today", care_roles, order=10),
        registry.NavItem(gettext_lazy("Complaints"), "care:complaint_list", care_roles, order=60),
        registry.NavItem(gettext_lazy("VIP attendance"), "care:attendance", frozenset(), order=70),
        registry.NavItem(gettext_lazy("Care plan"), "care:plan", care_roles, order=80),
        registry.NavItem(gettext_lazy("Gifts"), "care:gifts", care_roles, order=65),
        registry.NavItem(gettext_lazy("Handover"), "care:handover", manager_roles, order=85),
    ])
    registry.MEMBER_PANELS.append(_panel)
    registry.MEMBER_CARD_FACTS.append(_facts)
    TIMELINE_SOURCES.append(_timeline)
