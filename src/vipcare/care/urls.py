from django.urls import path

from vipcare.care import views

app_name = "care"
urlpatterns = [
    path("today/", views.today, name="today"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="task_complete"),
    path("complaints/", views.complaint_list, name="complaint_list"),
    path("complaints/<int:pk>/", views.complaint_act, name="complaint_act"),
    path("plan/", views.plan, name="plan"),
    path("attendance/", views.attendance, name="attendance"),
    path("gifts/", views.gifts, name="gifts"),
    path("gifts/<int:pk>/", views.gift_act, name="gift_act"),
    path("members/<int:pk>/lost/", views.member_lost, name="member_lost"),
    path("members/<int:pk>/manager/", views.member_manager, name="member_manager"),
    path("handover/", views.handover, name="handover"),
]
