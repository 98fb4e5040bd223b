from django.contrib import admin

from vipcare.core.models import AuditLogEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """What changes only through the services (ledgers, levels, coupons, redemptions) or never
    (the audit log): the admin may look, not touch."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(ReadOnlyAdmin):
    """The audit log is evidence: nobody edits or deletes it, not even an admin."""

    list_display = ["at", "user", "action", "target_type", "target_id", "ip_address"]
    list_filter = ["action", "target_type"]
    search_fields = ["target_id", "user__username"]
