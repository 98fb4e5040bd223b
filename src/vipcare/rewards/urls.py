from django.urls import path

from vipcare.rewards import views

app_name = "rewards"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("new/", views.reward_edit, name="reward_new"),
    path("<int:pk>/", views.reward_edit, name="reward_edit"),
    path("members/<int:pk>/redeem/", views.member_redeem, name="member_redeem"),
    path("redemptions/<int:pk>/hand-over/", views.redemption_hand_over, name="redemption_hand_over"),
    path("redemptions/<int:pk>/cancel/", views.redemption_cancel, name="redemption_cancel"),
]
