"""WebSocket routes."""

from django.urls import path

from voice.consumer import CallConsumer
from voice.middleware import CallAccessMiddleware

websocket_urlpatterns = [
    path("ws/call/", CallAccessMiddleware(CallConsumer.as_asgi())),
]
