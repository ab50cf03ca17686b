"""`/metrics`: the Prometheus scrape, answered before Django on every host, for allowed scrapers.

A scraper is let in when it sends the bearer token (`NEXUS_METRICS_TOKEN`, if one is set) or
connects from an allowed network (`NEXUS_METRICS_ALLOWED_NETWORKS`, loopback by default: a
scraper on the host or in a sidecar container). Anyone else gets 403. The metrics are gathered
off the event loop (the multiprocess files and the sidecar leases are read synchronously).
"""

import asyncio
import hmac
import ipaddress
from typing import Any

from django.conf import settings

from nexus_project.metrics import metrics_text

PATH = "/metrics"


def scraper_allowed(scope: dict[str, Any]) -> bool:
    token = settings.NEXUS_METRICS_TOKEN
    if token:
        sent = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        if hmac.compare_digest(sent, f"Bearer {token}"):
            return True
    client = scope.get("client")
    if not client:
        return False
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:  # a unix socket's peer, say: not an address to allow
        return False
    networks = settings.NEXUS_METRICS_ALLOWED_NETWORKS
    return any(address in ipaddress.ip_network(network) for network in networks)


class MetricsEndpoint:
    """ASGI middleware answering `/metrics` before the application sees it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        if scraper_allowed(scope):
            status, (body, content_type) = 200, await asyncio.to_thread(metrics_text)
        else:
            status, body, content_type = 403, b"forbidden\n", "text/plain; charset=utf-8"
        headers = [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
