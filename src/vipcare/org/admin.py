from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from vipcare.org.models import ApiKey, Organisation, Staff, Store
from vipcare.org.services import api_key_revoke


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind"]


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "brand", "category", "floor", "city", "is_active"]
    list_filter = ["category", "floor", "city", "is_active"]
    search_fields = ["code", "name", "brand"]


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ["staff_no", "name", "role", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["staff_no", "name", "user__username"]
    filter_horizontal = ["stores"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "store", "prefix", "created_at", "revoked_at"]
    list_filter = ["store"]
    search_fields = ["name", "prefix", "store__code"]
    readonly_fields = ["store", "prefix", "key_hash", "created_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # keys are issued with `vipcare issueapikey`, which shows the raw key once

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the key's idempotency records and audit trail stay

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        live = list(queryset.filter(revoked_at__isnull=True))
        for key in live:
            api_key_revoke(api_key=key, revoked_by=request.user, request=request)
        self.message_user(request, ngettext("%(n)d key revoked.", "%(n)d keys revoked.", len(live)) % {"n": len(live)},
                          messages.SUCCESS)
