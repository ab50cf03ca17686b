"""`/healthz` and `/readyz`: is the process alive, and can it serve calls now.

`HealthEndpoints` wraps the HTTP application and answers these two paths itself, before Django:
on every host (a load balancer probes with the bare address, `10.0.0.5:8000`), with no tenant
looked up, no `ALLOWED_HOSTS` check and no redirect to HTTPS, never cached. Every other request
goes on to Django as it came.

- `/healthz`: the process answers (200 `{"status": "ok"}`), draining or not.
- `/readyz`: each check below, run together, each within `CHECK_SECONDS`; 200 when every one
  passes, 503 when one fails, and 503 at once while the process drains (`"draining": true`).
  The database (`SELECT 1` on a connection of its own), Redis (PING), the channel layer (a
  message sent to a throwaway channel and received back) and the voice engines: a PersonaPlex
  sidecar of `PERSONAPLEX_URLS` accepting a TCP connection, or, with none configured, the
  fallback voicing calls (`NEXUS_VOICE_FALLBACK`); and the event loop: this process's lag not
  held over `NEXUS_LOOP_LAG_LIMIT_MS` (`nexus_project.loop_lag`: a busy process takes no call);
  and its calls: under `NEXUS_MAX_CALLS_PER_PROCESS` (`voice.call.capacity`), when that is set.

The checks are coroutines on the server's event loop: a slow one waits without holding a thread
and never delays a call. What failed is named in the body by the error's kind only; the details
(addresses, server messages) go to the log, since anyone who reaches the port can read the body.
"""

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

import psycopg
from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, HTTPScope
from django.conf import settings
from django.db import connections
from redis.asyncio import Redis

from nexus_project.channel_layer import channel_layer
from nexus_project.draining import draining
from nexus_project.loop_lag import lag_state
from voice.call.capacity import calls_in_process, process_full
from voice.sidecar.pool import SidecarEntry

logger = logging.getLogger(__name__)

CHECK_SECONDS = 2.0  # each check's limit; they run together, so /readyz answers within it
SIDECAR_SECONDS = 1.5  # a sidecar's connect: inside the check's limit, so each is reported
DEFAULT_PORTS = {"ws": 80, "http": 80, "wss": 443, "https": 443}


class CheckFailed(Exception):
    """A check that ran and found the service not fit: its message and detail go in the body."""

    def __init__(self, message: str, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or {}


@dataclass
class CheckResult:
    ok: bool
    ms: float
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": self.ok, "ms": round(self.ms, 1)}
        if self.error is not None:
            body["error"] = self.error
        return body | self.detail


async def database_check() -> dict[str, Any]:
    """A trivial query on a connection of its own: no tenant schema, no shared DB thread."""
    params = connections["default"].get_connection_params()
    for synchronous_only in ("cursor_factory", "context"):  # Django's, for its sync connection
        params.pop(synchronous_only, None)
    async with await psycopg.AsyncConnection.connect(
        **params, connect_timeout=max(1, round(CHECK_SECONDS))
    ) as connection:
        cursor = await connection.execute("SELECT 1")
        if await cursor.fetchone() != (1,):
            raise CheckFailed("SELECT 1 did not answer 1")
    return {}


async def redis_check() -> dict[str, Any]:
    client = Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=CHECK_SECONDS, socket_timeout=CHECK_SECONDS
    )
    try:
        # redis-py types its commands for both clients; the asyncio one's are awaitable
        await cast(Awaitable[bool], client.ping())
    finally:
        await client.aclose()
    return {}


async def channel_layer_check() -> dict[str, Any]:
    """A message to a throwaway channel of this process, received back through Redis."""
    layer = channel_layer()
    # The default prefix: channels-redis reads every channel of this process from one list,
    # the consumers' (a prefix of its own would wait behind their reads, never answered).
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "health.ping"})
    message = await layer.receive(channel)
    if message.get("type") != "health.ping":
        raise CheckFailed("the channel layer answered with another message")
    return {}


async def voice_check() -> dict[str, Any]:
    """At least one PersonaPlex sidecar reachable; none configured: the fallback voices calls."""
    entries = settings.PERSONAPLEX_URLS
    if not entries:
        return {"served_by": settings.NEXUS_VOICE_FALLBACK, "sidecars": 0}
    reached = await asyncio.gather(*(_sidecar_reach(entry) for entry in entries))
    failures = [
        {"sidecar": number, "error": error}
        for number, error in enumerate(reached, start=1)
        if error is not None
    ]
    reachable = len(entries) - len(failures)
    detail = {"served_by": "personaplex", "sidecars": len(entries), "reachable": reachable}
    if failures:
        detail["unreachable"] = failures
    if not reachable:
        raise CheckFailed("no PersonaPlex sidecar reachable", detail)
    return detail


async def _sidecar_reach(entry: str) -> str | None:
    """None if the sidecar of `entry` accepts a TCP connection, else what went wrong."""
    try:
        url = urlsplit(SidecarEntry.parse(entry).url)
        host, port = url.hostname, url.port or DEFAULT_PORTS.get(url.scheme)
        if not host or not port:
            raise ValueError("no host or port")
    except ValueError as error:
        logger.warning("readyz: sidecar entry %r is malformed (%s)", entry, error)
        return "malformed entry"
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), SIDECAR_SECONDS)
    except (OSError, TimeoutError) as error:
        logger.warning("readyz: sidecar %s:%s unreachable: %r", host, port, error)
        return error_describe(error)
    writer.close()
    with contextlib.suppress(OSError):  # it answered, which is all this check asks
        await writer.wait_closed()
    return None


async def event_loop_check() -> dict[str, Any]:
    """This process's event loop keeps up: its lag is not held over the limit."""
    state = lag_state()
    detail = {"lag_ms": round(state.lag * 1000, 1), "limit_ms": settings.NEXUS_LOOP_LAG_LIMIT_MS}
    if state.busy:
        raise CheckFailed("event loop lagging", detail)
    return detail


async def calls_check() -> dict[str, Any]:
    """This process is under its cap of calls (`NEXUS_MAX_CALLS_PER_PROCESS`), if it has one."""
    detail = {"calls": calls_in_process(), "max": settings.NEXUS_MAX_CALLS_PER_PROCESS}
    if process_full():
        raise CheckFailed("at its cap of calls", detail)
    return detail


Check = Callable[[], Awaitable[dict[str, Any]]]
CHECKS: dict[str, Check] = {
    "database": database_check,
    "redis": redis_check,
    "channel_layer": channel_layer_check,
    "voice": voice_check,
    "event_loop": event_loop_check,
    "calls": calls_check,
}


def error_describe(error: BaseException) -> str:
    """What went wrong, without addresses or server messages (those are logged)."""
    if isinstance(error, TimeoutError):
        return "no answer in time"
    if isinstance(error, CheckFailed):
        return error.message
    kind = type(error).__name__
    if isinstance(error, socket.gaierror):  # a name not resolved: its text names no address
        return f"{kind}: {error.strerror}"
    number = getattr(error, "errno", None)  # asyncio's strerror names the address: not it
    return f"{kind}: {os.strerror(number)}" if isinstance(number, int) and number > 0 else kind


async def check_run(name: str, check: Check) -> CheckResult:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(check(), CHECK_SECONDS)
    except Exception as error:
        ms = (time.perf_counter() - started) * 1000
        if isinstance(error, CheckFailed):
            return CheckResult(False, ms, error.message, error.detail)
        logger.warning("readyz: %s check failed: %r", name, error)
        return CheckResult(False, ms, error_describe(error))
    return CheckResult(True, (time.perf_counter() - started) * 1000, detail=detail)


async def readiness() -> tuple[int, dict[str, Any]]:
    """The status and body of `/readyz`."""
    if draining():
        return 503, {"status": "draining", "draining": True, "checks": {}}
    results = await asyncio.gather(*(check_run(name, check) for name, check in CHECKS.items()))
    checks = {name: result.as_json() for name, result in zip(CHECKS, results, strict=True)}
    ready = all(result.ok for result in results)
    body = {"status": "ok" if ready else "unavailable", "draining": False, "checks": checks}
    return (200 if ready else 503), body


async def liveness() -> tuple[int, dict[str, Any]]:
    return 200, {"status": "ok"}


ENDPOINTS = {"/healthz": liveness, "/readyz": readiness}


class HealthEndpoints:
    """ASGI middleware answering `/healthz` and `/readyz` before the application sees them."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(
        self, scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        endpoint = ENDPOINTS.get(scope["path"]) if scope["type"] == "http" else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _respond(send, 405, {"error": "GET or HEAD"}, head=False, allow=True)
            return
        status, body = await endpoint()
        await _respond(send, status, body, head=scope["method"] == "HEAD")


async def _respond(
    send: ASGISendCallable, status: int, body: dict[str, Any], *, head: bool, allow: bool = False
) -> None:
    content = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
        (b"cache-control", b"no-store"),
    ]
    if allow:
        headers.append((b"allow", b"GET, HEAD"))
    await send(
        {"type": "http.response.start", "status": status, "headers": headers, "trailers": False}
    )
    await send({"type": "http.response.body", "body": b"" if head else content, "more_body": False})
