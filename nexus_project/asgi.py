"""The ASGI application: HTTP through Django (tenant by host), WebSockets through Channels.

django-tenants has no ASGI support: the call endpoint resolves its tenant once, at the handshake,
from the widget key (or, for an admin test call, from the host), and never relies on the
connection's current schema.

`/healthz` and `/readyz` (`nexus_project.health`) and `/metrics` (`nexus_project.metrics_endpoint`)
are answered before Django, on any host. Every request first makes sure the process watches its
event loop's lag (`nexus_project.loop_lag`): a process that lags refuses new calls.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nexus_project.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.sessions import CookieMiddleware  # noqa: E402

from nexus_project.health import HealthEndpoints  # noqa: E402
from nexus_project.loop_lag import LoopLagWatch  # noqa: E402
from nexus_project.metrics_endpoint import MetricsEndpoint  # noqa: E402
from voice.routing import websocket_urlpatterns  # noqa: E402

application = LoopLagWatch(
    ProtocolTypeRouter(
        {
            "http": MetricsEndpoint(HealthEndpoints(django_asgi_app)),
            "websocket": CookieMiddleware(URLRouter(websocket_urlpatterns)),
        }
    )
)
