"""WebSocket routes."""

from django.urls import path

from voice.consumer import CallConsumer

websocket_urlpatterns = [
    path("ws/call/", CallConsumer.as_asgi()),
]
