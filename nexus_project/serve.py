"""`python -m nexus_project.serve`: the ASGI server, daphne, stopping gracefully.

    python -m nexus_project.serve -b 0.0.0.0 -p 8000 nexus_project.asgi:application

Takes daphne's own options. On SIGTERM or SIGINT every live call is ended first: its caller
gets `ended` `server_shutdown`, its row is closed and its sidecar freed; then the server stops.
(Daphne by itself cancels the calls at once, and callers see their socket drop with no word.)
A second signal stops the server at once.
"""

import asyncio
import logging
import signal
import sys
from typing import Any

from daphne.cli import CommandLineInterface
from daphne.server import Server
from twisted.internet import reactor as installed_reactor

# The asyncio reactor daphne installed, running daphne and the calls (typed as a module).
reactor: Any = installed_reactor

logger = logging.getLogger(__name__)

DRAIN_SECONDS = 10.0  # how long the live calls may take to end before the server stops


def stop_gracefully_on_signals() -> None:
    """From now on, SIGTERM and SIGINT end the live calls, then stop the reactor."""
    stopping = False

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal stopping
        if stopping:
            reactor.callFromThread(reactor.stop)
            return
        stopping = True
        logger.info("%s: ending the live calls, then stopping", signal.Signals(signum).name)
        reactor.callFromThread(_drain_then_stop)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


def _drain_then_stop() -> None:
    draining = asyncio.ensure_future(_drain())
    draining.add_done_callback(lambda _: reactor.stop())


async def _drain() -> None:
    from voice.call.ending import calls_end_all
    from voice.models import EndReason

    try:
        await asyncio.wait_for(calls_end_all(EndReason.SERVER_SHUTDOWN), DRAIN_SECONDS)
    except TimeoutError:
        logger.warning("live calls still ending after %s s: stopping anyway", DRAIN_SECONDS)


class GracefulServer(Server):
    """Daphne's server, with `stop_gracefully_on_signals` in place of its signal handling."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "signal_handlers": False})

    def run(self) -> None:
        stop_gracefully_on_signals()
        super().run()


class GracefulCommandLine(CommandLineInterface):
    server_class = GracefulServer


if __name__ == "__main__":
    GracefulCommandLine().run(sys.argv[1:])
