"""What the programme adds to shared screens: the navigation link, the member 360 panels (level and
points, stored value, coupons) and the one-glance card's facts (level, points, stored value,
benefits)."""

import datetime
import uuid

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vipcare.core.registry import NavItem, Panel
from vipcare.core.templatetags.vipcare_ui import yuan
from vipcare.loyalty import selectors as loyalty
from vipcare.loyalty.models import MemberTier, PointsEntry, Tier, TierChange
from vipcare.loyalty.services import ADJUST_ROLES
from vipcare.offers import selectors as offers
from vipcare.offers.choices import CouponStatus
from vipcare.offers.services import may_issue
from vipcare.org.choices import Role
from vipcare.org.selectors import stores_visible_to
from vipcare.wallet import selectors as wallet
from vipcare.wallet.services import CASH_OUT_ROLES

OVERVIEW_ROLES = frozenset({Role.ADMIN, Role.OPERATIONS_MANAGER, Role.STORE_MANAGER})
CONFIG_ROLES = frozenset({Role.ADMIN, Role.OPERATIONS_MANAGER})
# The front desk loads cards; paying principal out and adjusting points or level are for fewer roles
# (wallet.services.CASH_OUT_ROLES, loyalty.services.ADJUST_ROLES), which the services check again.
TOP_UP_ROLES = frozenset({Role.ADMIN, Role.OPERATIONS_MANAGER, Role.STORE_MANAGER, Role.ACCOUNT_MANAGER,
                          Role.CASHIER})
NAV_ITEM = NavItem(label=gettext_lazy("Programme"), url_name="programme:overview", roles=OVERVIEW_ROLES, order=50)
PANEL_ROWS = 10


def tier_benefits(tier: Tier | None) -> list[str]:
    """A level's benefits in words: discount, points multiplier, birthday extra, services."""
    if tier is None:
        return []
    benefits = []
    if tier.discount_percent:
        benefits.append(_("%(p)s%% off") % {"p": f"{tier.discount_percent.normalize():f}"})
    if tier.points_multiplier != 1:
        benefits.append(_("points ×%(m)s") % {"m": f"{tier.points_multiplier.normalize():f}"})
    if tier.birthday_discount_percent:
        benefits.append(_("birthday +%(p)s%%") % {"p": f"{tier.birthday_discount_percent.normalize():f}"})
    return benefits + tier_services(tier)


def tier_services(tier: Tier) -> list[str]:
    """The services a level gives (parking, lounge, delivery, and any a deployment added)."""
    services, named = tier.services or {}, []
    if services.get("parking_hours"):
        named.append(_("%(h)s h free parking") % {"h": services["parking_hours"]})
    if services.get("lounge"):
        named.append(_("VIP lounge"))
    if services.get("priority_delivery"):
        named.append(_("priority delivery"))
    return named + [str(key) for key, value in services.items()
                    if key not in ("parking_hours", "lounge", "priority_delivery") and value]


def level_points_panel(*, member, staff) -> Panel:
    state = MemberTier.objects.filter(member=member).select_related("tier").first()
    account = loyalty.points_account(member)
    lots = loyalty.points_lots(member)
    policy = loyalty.points_policy()
    now = timezone.now()
    soon = now + datetime.timedelta(days=policy.reminder_days)
    context = {
        "state": state,
        "progress": loyalty.tier_progress(member),
        "benefits": tier_benefits(state.tier if state else None),
        "account": account,
        "held": loyalty.points_held(member),
        "lots": list(lots[:PANEL_ROWS]),
        "lots_more": max(0, lots.count() - PANEL_ROWS),
        "expiring": sum(lot.remaining for lot in lots.filter(expires_at__lte=soon)),
        "reminder_days": policy.reminder_days,
        "entries": list(PointsEntry.objects.filter(account__member=member).select_related("store")
                        .order_by("-created_at", "-pk")[:PANEL_ROWS]),
        "changes": list(TierChange.objects.filter(member=member).select_related("from_tier", "to_tier")
                        .order_by("-changed_at", "-pk")[:5]),
        "may_adjust": staff.role in ADJUST_ROLES and member.status == "active",
        "token": uuid.uuid4().hex,
    }
    if context["may_adjust"]:
        context["tiers"] = list(Tier.objects.filter(is_active=True).order_by("rank"))
    return Panel(title=_("Level and points"), template="programme/partials/_level_points.html", context=context,
                 order=10)


def stored_value_panel(*, member, staff) -> Panel | None:
    account = wallet.wallet_account(member)
    active = member.status == "active"
    may_top_up = staff.role in TOP_UP_ROLES and active
    if account is None and not may_top_up:
        return None
    may_cash_out = staff.role in CASH_OUT_ROLES and active and account is not None and account.principal_fen > 0
    context = {
        "account": account,
        "entries": list(wallet.wallet_entries(member)[:PANEL_ROWS]),
        "may_top_up": may_top_up,
        "may_cash_out": may_cash_out,
        "plans": list(wallet.top_up_plans_on_offer()) if may_top_up else [],
        "stores": list(stores_visible_to(staff)) if may_top_up or may_cash_out else [],
        "token": uuid.uuid4().hex,
    }
    return Panel(title=_("Stored value"), template="programme/partials/_stored_value.html", context=context,
                 order=12)


def coupons_panel(*, member, staff) -> Panel:
    now = timezone.now()
    coupons = list(offers.member_coupons(member)[:50])
    live = [c for c in coupons if c.is_live(now)]
    context = {
        "live": live,
        "past": [c for c in coupons if c not in live][:PANEL_ROWS],
        "now": now,
        "may_issue": may_issue(staff.user) and member.status == "active",
        "templates": list(offers.templates_issuable()) if may_issue(staff.user) else [],
        "token": uuid.uuid4().hex,
        "statuses": CouponStatus,
    }
    return Panel(title=_("Coupons"), template="programme/partials/_coupons.html", context=context, order=14)


def member_card_facts(*, member, staff) -> list[tuple[str, str]]:
    tier = loyalty.member_tier(member)
    account = loyalty.points_account(member)
    facts = [(_("Level"), tier.name if tier else _("Points member")),
             (_("Points"), f"{account.balance if account else 0:,}")]
    card = wallet.wallet_account(member)
    if card is not None and card.balance_fen:
        facts.append((_("Stored value"), yuan(card.balance_fen)))
    live = offers.live_coupons(member).count()
    if live:
        facts.append((_("Coupons"), str(live)))
    benefits = tier_benefits(tier)
    if benefits:
        facts.append((_("Benefits"), " · ".join(benefits)))
    return facts
