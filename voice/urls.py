"""URLs of a tenant's host for callers (the admin is routed in `nexus_project.urls_tenant`)."""

from django.urls import path
from django.views.generic import RedirectView

from voice import views

app_name = "voice"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="voice:demo"), name="home"),  # and "View site"
    path("demo/", views.demo, name="demo"),
]
