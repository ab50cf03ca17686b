"""WebSocket routes."""

from typing import Any

from django.urls import path

from voice.consumer import CallConsumer
from voice.middleware import CallAccessMiddleware
from voice.monitor.consumer import StaffConsumer
from voice.monitor.middleware import StaffAccessMiddleware

# Channels' URLRouter takes these as they are; its stubs want a pattern type of their own.
websocket_urlpatterns: list[Any] = [
    path("ws/call/", CallAccessMiddleware(CallConsumer.as_asgi())),
    path("ws/staff/", StaffAccessMiddleware(StaffConsumer.as_asgi())),
]
