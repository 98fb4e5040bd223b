from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "vipcare.analytics"
    label = "analytics"
    verbose_name = _("Member analytics")

    def ready(self) -> None:
        from vipcare.analytics import panels
        from vipcare.core import registry

        if panels.NAV_ITEM not in registry.NAV_ITEMS:
            registry.NAV_ITEMS.append(panels.NAV_ITEM)
        if panels.member_analytics_panel not in registry.MEMBER_PANELS:
            registry.MEMBER_PANELS.append(panels.member_analytics_panel)
        if panels.member_analytics_facts not in registry.MEMBER_CARD_FACTS:
            registry.MEMBER_CARD_FACTS.append(panels.member_analytics_facts)
