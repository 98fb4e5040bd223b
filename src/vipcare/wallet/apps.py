from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WalletConfig(AppConfig):
    name = "vipcare.wallet"
    label = "wallet"
    verbose_name = _("Stored value")

    def ready(self) -> None:
        from vipcare.members.services import MERGE_HOOKS
        from vipcare.wallet.services import wallet_merge_hook

        if wallet_merge_hook not in MERGE_HOOKS:
            MERGE_HOOKS.append(wallet_merge_hook)
