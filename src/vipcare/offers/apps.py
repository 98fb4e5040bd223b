from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OffersConfig(AppConfig):
    name = "vipcare.offers"
    label = "offers"
    verbose_name = _("Offers and coupons")

    def ready(self) -> None:
        from vipcare.loyalty import configuration
        from vipcare.offers.models import MemberDay, OffersPolicy

        configuration.connect(OffersPolicy, MemberDay)
