from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "vipcare.loyalty"
    label = "loyalty"
    verbose_name = _("Levels and points")

    def ready(self) -> None:
        from vipcare.loyalty import configuration
        from vipcare.loyalty.models import EarnMultiplier, PointsCampaign, PointsPolicy, Tier, TierPolicy
        from vipcare.loyalty.services import loyalty_merge_hook
        from vipcare.members.services import MERGE_HOOKS

        if loyalty_merge_hook not in MERGE_HOOKS:
            MERGE_HOOKS.append(loyalty_merge_hook)
        configuration.connect(Tier, TierPolicy, PointsPolicy, EarnMultiplier, PointsCampaign)
