"""Who a client is: the address it connects from, or the one a trusted proxy acts for.

`X-Forwarded-For` is believed only from the proxies named in `NEXUS_TRUSTED_PROXIES` (addresses
or networks): from anyone else it is ignored, so a client cannot pose as another by sending it.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(peer: str, forwarded_for: str) -> str:
    """The client behind `peer`, given the `X-Forwarded-For` header it sent (maybe empty)."""
    hops = [peer, *reversed([hop.strip() for hop in forwarded_for.split(",") if hop.strip()])]
    # From the nearest hop outwards, the first that is not a trusted proxy is the client.
    return next((hop for hop in hops if not _trusted_proxy(hop)), hops[-1])


def request_client_address(request: HttpRequest) -> str:
    """The client of an HTTP request (django-axes' `AXES_CLIENT_IP_CALLABLE`)."""
    meta = request.META
    return client_address(meta.get("REMOTE_ADDR", ""), meta.get("HTTP_X_FORWARDED_FOR", ""))


def _trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net) for net in settings.NEXUS_TRUSTED_PROXIES)
