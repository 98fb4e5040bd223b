from django.urls import path

from vipcare.members import views

app_name = "members"
urlpatterns = [
    path("", views.member_list, name="member_list"),
]
