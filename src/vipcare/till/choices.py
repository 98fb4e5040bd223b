from django.db import models
from django.utils.translation import gettext_lazy as _


class TillHoldStatus(models.TextChoices):
    HELD = "held", _("Held")
    CAPTURED = "captured", _("Captured by a checkout")
    RELEASED = "released", _("Released")
