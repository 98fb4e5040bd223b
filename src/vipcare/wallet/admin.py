from django.contrib import admin

from vipcare.wallet.models import TopUpPlan, WalletAccount, WalletEntry


@admin.register(TopUpPlan)
class TopUpPlanAdmin(admin.ModelAdmin):
    list_display = ["name", "pay_fen", "bonus_fen", "effective_discount", "starts_on", "ends_on", "is_active"]

    @admin.display(description="effective discount")
    def effective_discount(self, obj: TopUpPlan) -> str:
        return f"{float(obj.effective_discount):.3f}"


class ReadOnlyAdmin(admin.ModelAdmin):
    """The ledger changes only through the services: the admin may look, not touch."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WalletAccount)
class WalletAccountAdmin(ReadOnlyAdmin):
    list_display = ["member", "principal_fen", "bonus_fen"]


@admin.register(WalletEntry)
class WalletEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "kind", "principal_delta", "bonus_delta", "principal_after",
                    "bonus_after", "store"]
    list_filter = ["kind"]
