from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from vipcare.api import api
from vipcare.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("members/", include("vipcare.members.urls")),
    path("programme/", include("vipcare.programme.urls")),
    path("rewards/", include("vipcare.rewards.urls")),
    path("analytics/", include("vipcare.analytics.urls")),
    path("care/", include("vipcare.care.urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
