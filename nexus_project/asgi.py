"""The ASGI application: HTTP through Django (tenant by host), WebSockets through Channels.

django-tenants has no ASGI support: the call endpoint resolves its tenant once, at the handshake,
from the widget key (or, for an admin test call, from the host), and never relies on the
connection's current schema.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nexus_project.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.sessions import CookieMiddleware  # noqa: E402

from voice.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": CookieMiddleware(URLRouter(websocket_urlpatterns)),
    }
)
