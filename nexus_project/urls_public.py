"""URLs of the public host: the platform's landing page and the operators' admin."""

from django.urls import path

from tenants_app.admin import platform_admin_site
from tenants_app.landing import landing

urlpatterns = [
    path("", landing, name="landing"),
    path("admin/", platform_admin_site.urls),
]
