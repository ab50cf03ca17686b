"""URLs of a tenant's host for callers (the admin is routed in `nexus_project.urls_tenant`)."""

from django.urls import path

from voice import views

app_name = "voice"

urlpatterns = [
    path("demo/", views.demo, name="demo"),
]
