"""ASGI middleware of `/ws/call/`: who may call which agent, resolved once at the handshake.

django-tenants has no ASGI support, so the call endpoint finds its tenant here: from the widget
key's public route (or, for an admin "test call", from the host and the tenant's own session).
The consumer finds the outcome in its scope, and never looks at a connection's schema:
- `scope["call_params"]` (`CallParams`) and `scope["call_access"]` (`CallAccess`), or
- `scope["call_refused"]` (`CallRefused`): the close code and why.
Nothing is kept on the middleware itself.
"""

from typing import Any

from django.conf import settings

from tenants_app.db import public_run
from voice.call.access import call_access_resolve
from voice.call.protocol import CallRefused, params_parse

Scope = dict[str, Any]


class CallAccessMiddleware:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        return await self.inner(await _with_call_access(scope), receive, send)


async def _with_call_access(scope: Scope) -> Scope:
    headers = dict(scope["headers"])
    try:
        params = params_parse(scope["query_string"])
        access = await public_run(
            call_access_resolve,
            params=params,
            origin=headers.get(b"origin", b"").decode("latin-1") or None,
            host=headers.get(b"host", b"").decode("latin-1"),
            session_key=scope.get("cookies", {}).get(settings.SESSION_COOKIE_NAME),
        )
    except CallRefused as refusal:
        return {**scope, "call_refused": refusal}
    return {**scope, "call_params": params, "call_access": access}
