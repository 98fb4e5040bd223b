from django.contrib import admin

from vipcare.core.admin import ReadOnlyAdmin
from vipcare.loyalty.models import (
    EarnMultiplier,
    MemberTier,
    PointsAccount,
    PointsCampaign,
    PointsEntry,
    PointsPolicy,
    Tier,
    TierChange,
    TierPolicy,
)


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ["rank", "code", "name", "threshold_fen", "threshold_points", "single_purchase_fen",
                    "discount_percent", "points_multiplier", "birthday_discount_percent", "is_active"]
    list_editable = ["is_active"]


@admin.register(TierPolicy)
class TierPolicyAdmin(admin.ModelAdmin):
    list_display = ["window", "rolling_days", "basis", "downgrade_mode", "grace_days"]

    def has_add_permission(self, request):
        return not TierPolicy.objects.exists()


@admin.register(PointsPolicy)
class PointsPolicyAdmin(admin.ModelAdmin):
    list_display = ["points_per_yuan", "expiry_mode", "expiry_months", "pending_days", "reminder_days"]

    def has_add_permission(self, request):
        return not PointsPolicy.objects.exists()


@admin.register(EarnMultiplier)
class EarnMultiplierAdmin(admin.ModelAdmin):
    list_display = ["name", "brand", "category", "multiplier", "is_active"]


@admin.register(PointsCampaign)
class PointsCampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "starts_on", "ends_on", "multiplier", "brand", "category", "is_active"]


@admin.register(MemberTier)
class MemberTierAdmin(ReadOnlyAdmin):
    list_display = ["member", "tier", "since", "below_since", "reviewed_at"]
    list_filter = ["tier"]


@admin.register(TierChange)
class TierChangeAdmin(ReadOnlyAdmin):
    list_display = ["changed_at", "member", "from_tier", "to_tier", "reason", "window_value"]
    list_filter = ["reason"]


@admin.register(PointsAccount)
class PointsAccountAdmin(ReadOnlyAdmin):
    list_display = ["member", "balance", "pending"]


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "kind", "delta", "pending_delta", "balance_after", "shortfall", "reason"]
    list_filter = ["kind"]
