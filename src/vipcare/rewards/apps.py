from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RewardsConfig(AppConfig):
    """The rewards catalogue (积分兑换): gifts with stock and coupons that members get for points."""

    name = "vipcare.rewards"
    label = "rewards"
    verbose_name = _("Rewards")

    def ready(self) -> None:
        from vipcare.core import registry
        from vipcare.rewards import panels

        if panels.NAV_ITEM not in registry.NAV_ITEMS:
            registry.NAV_ITEMS.append(panels.NAV_ITEM)
        if panels.rewards_panel not in registry.MEMBER_PANELS:
            registry.MEMBER_PANELS.append(panels.rewards_panel)
