"""What the rewards app adds to shared screens: the catalogue in the navigation, and on the member
360 page the rewards the member can redeem with their spendable points, and past redemptions."""

import uuid

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vipcare.core.registry import NavItem, Panel
from vipcare.members.choices import MemberStatus
from vipcare.org.choices import Role
from vipcare.org.selectors import stores_visible_to
from vipcare.rewards import selectors
from vipcare.rewards.choices import RedemptionStatus
from vipcare.rewards.services import may_cancel, may_redeem

CATALOGUE_ROLES = frozenset({Role.ADMIN, Role.OPERATIONS_MANAGER, Role.STORE_MANAGER})
NAV_ITEM = NavItem(label=gettext_lazy("Rewards"), url_name="rewards:catalogue", roles=CATALOGUE_ROLES, order=55)
PANEL_ROWS = 10


def rewards_panel(*, member, staff) -> Panel:
    stores = list(stores_visible_to(staff).filter(is_active=True).order_by("code"))
    context = {
        "points": selectors.spendable_points(member),
        "offers": selectors.rewards_for_member(member=member),
        "redemptions": list(selectors.member_redemptions(member)[:PANEL_ROWS]),
        "may_redeem": may_redeem(staff.user) and member.status == MemberStatus.ACTIVE and bool(stores),
        "may_cancel": may_cancel(staff.user),
        "stores": stores,
        "token": uuid.uuid4().hex,
        "statuses": RedemptionStatus,
    }
    return Panel(title=_("Rewards for points"), template="rewards/partials/_member_rewards.html", context=context,
                 order=13)
