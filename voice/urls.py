"""URLs of a tenant's host for callers, and a call's recording for its staff (the admin is routed
in `nexus_project.urls_tenant`)."""

from django.urls import path
from django.views.generic import RedirectView

from voice import views
from voice.recording.views import call_recording

app_name = "voice"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="voice:demo"), name="home"),  # and "View site"
    path("demo/", views.demo, name="demo"),
    path("calls/<uuid:call_id>/recording/", call_recording, name="call_recording"),
]
