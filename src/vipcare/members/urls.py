from django.urls import path

from vipcare.members import views

app_name = "members"
urlpatterns = [
    path("", views.member_list, name="member_list"),
    path("lookup/", views.member_lookup, name="member_lookup"),
    path("new/", views.member_create, name="member_create"),
    path("export/", views.member_export, name="member_export"),
    path("duplicates/", views.duplicate_list, name="duplicate_list"),
    path("duplicates/merge/", views.member_merge, name="member_merge"),
    path("ranking/", views.archive_ranking, name="archive_ranking"),
    path("<int:pk>/", views.member_detail, name="member_detail"),
    path("<int:pk>/card/", views.member_card, name="member_card"),
    path("<int:pk>/edit/", views.member_update, name="member_update"),
    path("<int:pk>/reveal/", views.member_reveal, name="member_reveal"),
    path("<int:pk>/consent/", views.member_consent, name="member_consent"),
    path("<int:pk>/purchases/", views.member_purchases, name="member_purchases"),
]
