"""ASGI middleware of `/ws/staff/`: the staff member a socket is, resolved once at the handshake.

The outcome goes into the connection's scope (`scope["staff_access"]`): a `StaffAccess`, or the
`StaffRefused` to close with; the consumer reads it with `staff_access(scope)`. The session
cookie is read by Channels' `CookieMiddleware` (`nexus_project.asgi`); nothing is kept on the
middleware itself.
"""

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from tenants_app.db import public_run
from voice.monitor.access import StaffAccess, StaffRefused, staff_access_resolve

SCOPE_KEY = "staff_access"


def staff_access(scope: Mapping[str, Any]) -> StaffAccess:
    """The connection's staff access; raises the `StaffRefused` it was refused with instead."""
    access: StaffAccess | StaffRefused = scope[SCOPE_KEY]
    if isinstance(access, StaffRefused):
        raise access
    return access


class StaffAccessMiddleware:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        return await self.inner({**scope, SCOPE_KEY: await _admit(scope)}, receive, send)


async def _admit(scope: Mapping[str, Any]) -> StaffAccess | StaffRefused:
    headers = dict(scope["headers"])
    try:
        return await public_run(
            staff_access_resolve,
            host=headers.get(b"host", b"").decode("latin-1"),
            origin=headers.get(b"origin", b"").decode("latin-1") or None,
            session_key=scope.get("cookies", {}).get(settings.SESSION_COOKIE_NAME),
        )
    except StaffRefused as refusal:
        return refusal
