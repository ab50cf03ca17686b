"""`python -m nexus_project.serve`: the ASGI server, daphne, stopping gracefully.

    python -m nexus_project.serve -b 0.0.0.0 -p 8000 nexus_project.asgi:application

Takes daphne's own options. On SIGTERM or SIGINT the process drains: at once it takes no new
call (a `/ws/call/` handshake is refused, 4429) and `/readyz` answers 503; the calls in progress
go on for up to `NEXUS_DRAIN_SECONDS`, and the drain is over as soon as none is left. Every
call still live then is ended: its caller gets `ended` `server_shutdown`, its row is closed and
its sidecar freed; then the server stops. (Daphne by itself cancels the calls at once, and
callers see their socket drop with no word.) A second signal stops the server at once.

Each binary WebSocket message's ASGI event carries `received_at`, the `time.perf_counter()` of
its arrival at daphne: a call's uplink latency counts from there.
"""

import asyncio
import logging
import os
import signal
import sys
import time
from typing import Any

from daphne.cli import CommandLineInterface
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import reactor as installed_reactor

from nexus_project.draining import drain_begin

# The asyncio reactor daphne installed, running daphne and the calls (typed as a module).
reactor: Any = installed_reactor

logger = logging.getLogger(__name__)

END_SECONDS = 10.0  # how long the calls still live after the drain may take to end
POLL_SECONDS = 0.1  # how often the drain looks whether any call is left


def stop_gracefully_on_signals() -> None:
    """From now on, SIGTERM and SIGINT drain the process, then stop the reactor."""
    stopping = False

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal stopping
        if stopping:
            reactor.callFromThread(reactor.stop)
            return
        stopping = True
        drain_begin()  # here, not on the reactor: no new call from this very moment
        logger.info("%s: draining, then stopping", signal.Signals(signum).name)
        reactor.callFromThread(_drain_then_stop)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


def _drain_then_stop() -> None:
    draining = asyncio.ensure_future(_drain())
    draining.add_done_callback(lambda _: reactor.stop())


async def _drain() -> None:
    from django.conf import settings

    from voice.call.ending import calls_end_all, live_calls
    from voice.models import EndReason

    seconds = settings.NEXUS_DRAIN_SECONDS
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    # Polled: `live_calls` is a weak set with nothing to wait on, and calls join it meanwhile.
    while live_calls and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(POLL_SECONDS)
    if not live_calls:
        logger.info("drained: no call left")
        return
    logger.info(
        "drain period (%g s) over: ending the calls still live (%d)", seconds, len(live_calls)
    )
    try:
        await asyncio.wait_for(calls_end_all(EndReason.SERVER_SHUTDOWN), END_SECONDS)
    except TimeoutError:
        logger.warning("live calls still ending after %g s: stopping anyway", END_SECONDS)


class ArrivalStampingProtocol(WebSocketProtocol):
    """Daphne's WebSocket protocol; a binary message's event also says when it arrived."""

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if not isBinary or self.muted:
            super().onMessage(payload, isBinary)
            return
        self.last_ping = time.time()
        self.application_queue.put_nowait(
            {"type": "websocket.receive", "bytes": payload, "received_at": time.perf_counter()}
        )


class GracefulServer(Server):
    """Daphne's server, with `stop_gracefully_on_signals` in place of its signal handling and
    `ArrivalStampingProtocol` serving its WebSockets."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "signal_handlers": False})

    def run(self) -> None:
        stop_gracefully_on_signals()
        # Daphne builds its WebSocket factory in `run`, before the reactor accepts a connection.
        reactor.callWhenRunning(self._stamp_arrivals)
        super().run()

    def _stamp_arrivals(self) -> None:
        self.ws_factory.protocol = ArrivalStampingProtocol


class GracefulCommandLine(CommandLineInterface):
    server_class = GracefulServer


def _metrics_of_this_process_forgotten() -> None:
    """Its live gauges (calls in progress) no longer count in the host's metrics."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())


if __name__ == "__main__":
    try:
        GracefulCommandLine().run(sys.argv[1:])
    finally:
        _metrics_of_this_process_forgotten()
