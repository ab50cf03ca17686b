"""ASGI middleware of `/ws/call/`: who may call which agent, resolved once at the handshake.

django-tenants has no ASGI support, so the call endpoint finds its tenant here: from the widget
key's public route (or, for an admin "test call", from the host and the tenant's own session).
The outcome goes into the connection's scope (`scope["call_admission"]`): a `CallAdmission`
(the parameters asked for, the tenant and agent reached), or the `CallRefused` to close with.
The consumer reads it with `call_admission(scope)` and never looks at a connection's schema.
Nothing is kept on the middleware itself.

A process whose event loop lags (`nexus_project.loop_lag`) refuses every new call at once
(4429 `server_busy`), before any lookup: it spends nothing on a call it could not serve. A
client address refused too often within a minute is refused at once (4429) too. The address
is the peer's, or the one a trusted proxy (`NEXUS_TRUSTED_PROXIES`) names in
`X-Forwarded-For`; a header from anyone else is ignored.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from nexus_project.client_address import client_address
from nexus_project.loop_lag import server_busy
from tenants_app.db import public_run
from voice.call.access import CallAccess, call_access_cached, call_access_resolve
from voice.call.client_limits import refusal_count, refused_too_often
from voice.call.protocol import CallParams, CallRefused, CloseCode, params_parse

SCOPE_KEY = "call_admission"
SERVER_BUSY = "server_busy"  # the close reason (daphne drops it: the code alone reaches callers)


@dataclass(frozen=True)
class CallAdmission:
    """A connection let in: what it asked for, and the tenant and agent it reaches."""

    params: CallParams
    access: CallAccess
    client_address: str


def call_admission(scope: Mapping[str, Any]) -> CallAdmission:
    """The connection's admission; raises the `CallRefused` it was refused with instead."""
    admission: CallAdmission | CallRefused = scope[SCOPE_KEY]
    if isinstance(admission, CallRefused):
        raise admission
    return admission


class CallAccessMiddleware:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        return await self.inner({**scope, SCOPE_KEY: await _admit(scope)}, receive, send)


async def _admit(scope: Mapping[str, Any]) -> CallAdmission | CallRefused:
    if server_busy():
        return CallRefused(CloseCode.TOO_MANY_CALLS, SERVER_BUSY)
    peer = (scope.get("client") or ("unknown", 0))[0]
    forwarded_for = dict(scope["headers"]).get(b"x-forwarded-for", b"").decode("latin-1")
    address = client_address(peer, forwarded_for)
    if await refused_too_often(address):
        return CallRefused(CloseCode.TOO_MANY_CALLS, "too many refused attempts: try later")
    try:
        return CallAdmission(*await _resolve(scope), address)
    except CallRefused as refusal:
        await refusal_count(address)
        return refusal


async def _resolve(scope: Mapping[str, Any]) -> tuple[CallParams, CallAccess]:
    headers = dict(scope["headers"])
    params = params_parse(scope["query_string"])
    origin = headers.get(b"origin", b"").decode("latin-1") or None
    access = await call_access_cached(params=params, origin=origin)
    if access is None:
        access = await public_run(
            call_access_resolve,
            params=params,
            origin=origin,
            host=headers.get(b"host", b"").decode("latin-1"),
            session_key=scope.get("cookies", {}).get(settings.SESSION_COOKIE_NAME),
        )
    return params, access
