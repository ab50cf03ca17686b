"""How late this process's event loop runs, and whether it is too late to take another call.

A timer set every `SAMPLE_SECONDS` fires late by the time the loop took to reach it: the lag
every ready callback of the process (a caller's frame, a message to send) waits now. Each
sample is observed in `nexus_event_loop_lag_seconds`. When the lag stays over
`NEXUS_LOOP_LAG_LIMIT_MS` for `NEXUS_LOOP_LAG_WINDOW_MS` (one spike does not count), the process
is busy: it refuses new calls (4429 `server_busy`) and `/readyz` answers 503, so that a load
balancer sends callers to a process that can serve them; it is free again once the lag has
stayed under the limit for the same window. A limit of 0 measures the lag and never refuses.

The watch starts with the first request the process serves (`LoopLagWatch`), on its loop.
"""

import asyncio
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from nexus_project.metrics import EVENT_LOOP_LAG, SERVER_BUSY

SAMPLE_SECONDS = 0.1


@dataclass
class LagState:
    """The last lag measured, and whether it has been over the limit long enough to refuse."""

    lag: float = 0.0
    busy: bool = False
    _over_since: float | None = None
    _under_since: float | None = None

    def observe(self, lag: float, now: float, *, limit: float, window: float) -> None:
        """A sample: `lag` seconds, measured at `now`; the limit and window in seconds."""
        self.lag = lag
        if limit > 0 and lag > limit:
            self._under_since = None
            self._over_since = self._over_since if self._over_since is not None else now
            self.busy = self.busy or now - self._over_since >= window
        else:
            self._over_since = None
            self._under_since = self._under_since if self._under_since is not None else now
            self.busy = self.busy and limit > 0 and now - self._under_since < window


_state = LagState()
_watch: asyncio.Task | None = None


def server_busy() -> bool:
    """Whether the loop lags too much for this process to take another call."""
    return _state.busy


def lag_state() -> LagState:
    return _state


def loop_lag_watch_ensure() -> None:
    """Watch the running loop's lag, unless that is done already."""
    global _state, _watch
    loop = asyncio.get_running_loop()
    if _watch is not None and not _watch.done() and _watch.get_loop() is loop:
        return
    _state = LagState()
    _watch = loop.create_task(_watch_lag(_state), name="loop-lag-watch")


async def _watch_lag(state: LagState) -> None:
    loop = asyncio.get_running_loop()
    while True:
        asked = loop.time() + SAMPLE_SECONDS
        await asyncio.sleep(SAMPLE_SECONDS)
        now = loop.time()
        lag = max(0.0, now - asked)
        EVENT_LOOP_LAG.observe(lag)
        state.observe(
            lag,
            now,
            limit=settings.NEXUS_LOOP_LAG_LIMIT_MS / 1000,
            window=settings.NEXUS_LOOP_LAG_WINDOW_MS / 1000,
        )
        SERVER_BUSY.set(int(state.busy))


class LoopLagWatch:
    """ASGI middleware: the first request of the process starts the watch on its loop."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        loop_lag_watch_ensure()
        await self.app(scope, receive, send)
