from django.contrib import admin

from vipcare.core.admin import ReadOnlyAdmin
from vipcare.wallet.models import TopUpPlan, WalletAccount, WalletEntry


@admin.register(TopUpPlan)
class TopUpPlanAdmin(admin.ModelAdmin):
    list_display = ["name", "pay_fen", "bonus_fen", "effective_discount", "starts_on", "ends_on", "is_active"]

    @admin.display(description="effective discount")
    def effective_discount(self, obj: TopUpPlan) -> str:
        return f"{float(obj.effective_discount):.3f}"


@admin.register(WalletAccount)
class WalletAccountAdmin(ReadOnlyAdmin):
    list_display = ["member", "principal_fen", "bonus_fen"]


@admin.register(WalletEntry)
class WalletEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "kind", "principal_delta", "bonus_delta", "principal_after",
                    "bonus_after", "store"]
    list_filter = ["kind"]
