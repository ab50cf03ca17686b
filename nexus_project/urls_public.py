"""URLs of the public host: the platform operators' admin."""

from django.urls import path

from tenants_app.admin import platform_admin_site

urlpatterns = [
    path("admin/", platform_admin_site.urls),
]
