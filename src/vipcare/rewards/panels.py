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
    if member.home_store in stores:  # the member's own store first: where they usually collect
        stores.remove(member.home_store)
        stores.insert(0, member.home_store)
    offers = selectors.rewards_for_member(member=member)
    context = {
        "points": selectors.spendable_points(member),
        # each reward with the staff member's stores that hand it out
        "rows": [(offer, [s for s in stores if not offer.reward.stores.all() or s in offer.reward.stores.all()])
                 for offer in offers],
        "redemptions": list(selectors.member_redemptions(member)[:PANEL_ROWS]),
        "may_redeem": may_redeem(staff.user) and member.status == MemberStatus.ACTIVE and bool(stores),
        "may_cancel": may_cancel(staff.user),
        "stores": stores,
        "token": uuid.uuid4().hex,
        "statuses": RedemptionStatus,
    }
    return Panel(title=_("Rewards for points"), template="rewards/partials/_member_rewards.html", context=context,
                 order=13)
