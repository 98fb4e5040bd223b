from django.urls import path

from vipcare.programme import views

app_name = "programme"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("members/<int:pk>/coupons/", views.member_coupon_issue, name="member_coupon_issue"),
    path("members/<int:pk>/top-up/", views.member_top_up, name="member_top_up"),
    path("members/<int:pk>/cash-out/", views.member_cash_out, name="member_cash_out"),
    path("members/<int:pk>/points/", views.member_points_adjust, name="member_points_adjust"),
    path("members/<int:pk>/level/", views.member_tier_set, name="member_tier_set"),
    path("coupons/<int:pk>/void/", views.coupon_void_view, name="coupon_void"),
    path("<slug:kind>/", views.config_edit, name="config_edit"),
    path("<slug:kind>/new/", views.config_edit, name="config_new"),
    path("<slug:kind>/<int:pk>/", views.config_edit, name="config_edit"),
]
