from django.contrib import admin

from vipcare.members.models import Member, MemberFieldDefinition

PERSONAL_FIELDS = ["phone", "email", "address", "id_number", "birthday"]


@admin.register(MemberFieldDefinition)
class MemberFieldDefinitionAdmin(admin.ModelAdmin):
    list_display = ["key", "label", "field_type", "counts_for_completeness", "position"]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    """Read-only in the admin: members are changed through the member pages, which audit and
    validate; personal data is not shown here at all."""

    list_display = ["card_no", "name", "gender", "home_store", "account_manager", "status", "enrolled_at"]
    list_filter = ["status", "gender", "source"]
    search_fields = ["card_no", "name"]
    exclude = PERSONAL_FIELDS
    readonly_fields = [f.name for f in Member._meta.fields if f.name not in PERSONAL_FIELDS]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
