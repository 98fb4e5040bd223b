from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    VIEW_PERSONAL_DATA = "view_personal_data", _("Viewed personal data")
    EXPORT = "export", _("Exported data")
    MERGE_MEMBERS = "merge_members", _("Merged members")
    IMPORT = "import", _("Imported a file")
    UPDATE_MEMBER = "update_member", _("Changed a member")
    API_KEY = "api_key", _("Issued an API key")
    REVOKE_API_KEY = "revoke_api_key", _("Revoked an API key")
    POINTS_ADJUST = "points_adjust", _("Adjusted points")
    TIER_SET = "tier_set", _("Set a member's level")
    WALLET_CASH_OUT = "wallet_cash_out", _("Paid out stored value")
    STAFF_HANDOVER = "staff_handover", _("Handed a leaving staff member's members over")
    ASSIGN_ACCOUNT_MANAGER = "assign_account_manager", _("Assigned account managers")
    REWARD_REDEEM = "reward_redeem", _("Redeemed a reward for points")
    REWARD_HAND_OVER = "reward_hand_over", _("Handed a reward over")
    REWARD_CANCEL = "reward_cancel", _("Cancelled a reward redemption")


class AuditLogEntry(models.Model):
    """Append-only record of who saw or changed sensitive data, and when."""

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("user")
    )
    action = models.CharField(_("action"), max_length=32, choices=AuditAction.choices)
    target_type = models.CharField(_("target type"), max_length=64, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.action} {self.target_type}:{self.target_id}"


class IdempotencyRecord(models.Model):
    """The stored answer to a write request, so a retry with the same key gets it again.

    The unique constraint makes two concurrent first attempts impossible: the second one waits
    on the first one's transaction and then finds its record.
    """

    api_key = models.ForeignKey("org.ApiKey", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=128)
    operation = models.CharField(max_length=64)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_key_once_per_api_key")]

    def __str__(self) -> str:
        return f"{self.operation} {self.key}"
