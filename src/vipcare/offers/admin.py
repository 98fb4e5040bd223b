from django.contrib import admin

from vipcare.core.admin import ReadOnlyAdmin  # coupons, too, change only through their services
from vipcare.offers.models import Coupon, CouponRedemption, CouponRule, CouponTemplate, MemberDay, OffersPolicy


@admin.register(CouponTemplate)
class CouponTemplateAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "amount_fen", "percent", "cap_fen", "min_spend_fen", "valid_days",
                    "per_member_limit", "stacking", "priority", "reissue_on_refund", "is_active"]
    list_filter = ["kind", "stacking", "is_active"]


@admin.register(CouponRule)
class CouponRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "trigger", "template", "tier", "days_before", "is_active"]
    list_filter = ["trigger", "is_active"]


@admin.register(MemberDay)
class MemberDayAdmin(admin.ModelAdmin):
    list_display = ["name", "day_of_month", "weekday", "discount_percent", "min_tier", "is_active"]


@admin.register(OffersPolicy)
class OffersPolicyAdmin(admin.ModelAdmin):
    list_display = ["birthday_window", "birthday_default_percent"]

    def has_add_permission(self, request):
        return not OffersPolicy.objects.exists()


@admin.register(Coupon)
class CouponAdmin(ReadOnlyAdmin):
    list_display = ["code", "template", "member", "status", "source", "issued_at", "valid_until", "redeemed_at"]
    list_filter = ["status", "source", "template"]
    search_fields = ["code"]


@admin.register(CouponRedemption)
class CouponRedemptionAdmin(ReadOnlyAdmin):
    list_display = ["redeemed_at", "coupon", "member", "sale", "store", "discount_fen"]
