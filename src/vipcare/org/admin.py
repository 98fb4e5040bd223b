from django.contrib import admin

from vipcare.org.models import ApiKey, Organisation, Staff, Store


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
    readonly_fields = ["prefix", "key_hash", "created_at"]
