from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "vipcare.care"
    label = "care"
    verbose_name = _("Care")

    def ready(self) -> None:
        from vipcare.care import plugins

        plugins.register()
