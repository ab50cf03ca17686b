"""URLs of a tenant's hosts: the business's own admin."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("voice.urls")),
]
