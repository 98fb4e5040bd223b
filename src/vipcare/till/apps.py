from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TillConfig(AppConfig):
    name = "vipcare.till"
    label = "till"
    verbose_name = _("Till")

    def ready(self) -> None:
        from vipcare.sales.services import REFUND_HOOKS
        from vipcare.till.services import checkout_refund_reverse

        if checkout_refund_reverse not in REFUND_HOOKS:
            REFUND_HOOKS.append(checkout_refund_reverse)
