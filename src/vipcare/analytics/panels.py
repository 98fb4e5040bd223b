"""What the analytics add to shared screens: the navigation link, the member 360 panel, card facts."""

from django.utils.translation import gettext_lazy as _

from vipcare.analytics import selectors
from vipcare.core.registry import NavItem, Panel
from vipcare.org.choices import Role

DASHBOARD_ROLES = frozenset({Role.ADMIN, Role.OPERATIONS_MANAGER, Role.STORE_MANAGER})
NAV_ITEM = NavItem(label=_("Analytics"), url_name="analytics:dashboard", roles=DASHBOARD_ROLES, order=40)


def member_analytics_panel(*, member, staff) -> Panel | None:
    refresh, row = selectors.member_analytics(member.pk)
    if row is None:
        return None
    rules = selectors.refresh_rules(refresh)
    return Panel(title=str(_("Segments and future value")), template="analytics/partials/_member_panel.html",
                 context={"refresh": refresh, "row": row, "reasons": selectors.label_reasons(row, rules)}, order=30)


def member_analytics_facts(*, member, staff) -> list[tuple[str, str]]:
    labels = selectors.latest_member_labels([member.pk]).get(member.pk)
    if not labels:
        return []
    from vipcare.analytics.choices import Lifecycle, Pyramid

    facts = [(str(_("Pyramid")), str(Pyramid(labels["pyramid"]).label)),
             (str(_("Lifecycle")), str(Lifecycle(labels["lifecycle"]).label))]
    if labels["falling_off"]:
        facts.append((str(_("Falling off")), labels["falling_off_reason"]))
    return facts
