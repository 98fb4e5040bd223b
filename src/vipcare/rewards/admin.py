from django.contrib import admin

from vipcare.core.admin import ReadOnlyAdmin
from vipcare.rewards.models import Redemption, Reward


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "points", "stock", "per_member_limit", "starts_on", "ends_on", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    filter_horizontal = ["stores"]


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    """Read-only: redemptions change through the services (member 360, POS API) only."""

    list_display = ["redeemed_at", "reward", "member", "store", "points", "status"]
    list_filter = ["status", "reward"]
    raw_id_fields = ["member", "coupon", "points_hold"]
