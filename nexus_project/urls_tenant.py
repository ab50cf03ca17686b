"""URLs of a tenant's hosts: the business's own admin."""

from django.contrib import admin
from django.urls import include, path

from tenants_app.passwords import SET_PASSWORD_URL_NAME
from tenants_app.set_password import SetPasswordView
from voice.monitor.views import live_calls

urlpatterns = [
    path("admin/monitor/", admin.site.admin_view(live_calls), name="live_calls"),
    path(
        "admin/set-password/<uidb64>/<token>/",
        SetPasswordView.as_view(),
        name=SET_PASSWORD_URL_NAME,
    ),
    path("admin/", admin.site.urls),
    path("", include("voice.urls")),
]
