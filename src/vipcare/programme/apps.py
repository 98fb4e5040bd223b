from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgrammeConfig(AppConfig):
    """The staff screens of the loyalty programme: member 360 panels, card facts, the Programme
    page with its configuration forms. The rules live in loyalty, wallet, offers and till."""

    name = "vipcare.programme"
    label = "programme"
    verbose_name = _("Programme")

    def ready(self) -> None:
        from vipcare.core import registry
        from vipcare.programme import panels

        if panels.NAV_ITEM not in registry.NAV_ITEMS:
            registry.NAV_ITEMS.append(panels.NAV_ITEM)
        for panel in (panels.level_points_panel, panels.stored_value_panel, panels.coupons_panel):
            if panel not in registry.MEMBER_PANELS:
                registry.MEMBER_PANELS.append(panel)
        if panels.member_card_facts not in registry.MEMBER_CARD_FACTS:
            # the card shows its first fact large: the level is the one floor staff need first
            registry.MEMBER_CARD_FACTS.insert(0, panels.member_card_facts)
