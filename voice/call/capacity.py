"""How many calls one web process takes at most (`NEXUS_MAX_CALLS_PER_PROCESS`; 0: no cap).

The event loop's lag (`nexus_project.loop_lag`) shows a process full only once its calls run: a
burst of callers inside the lag's window would all be let in before it does. The cap counts the
calls live in this process and those still starting, so a burst is bounded at once. Set it from
`make bench`'s sustained calls per core (one process per core).
"""

import contextlib
from collections.abc import Iterator

from django.conf import settings

from voice.call.ending import live_calls

_starting = 0  # calls let in whose session is not live yet


def calls_in_process() -> int:
    """The calls this process serves or is starting."""
    return len(live_calls) + _starting


def process_full() -> bool:
    """Whether this process is at its cap of calls."""
    cap = settings.NEXUS_MAX_CALLS_PER_PROCESS
    return cap > 0 and calls_in_process() >= cap


@contextlib.contextmanager
def call_starting() -> Iterator[None]:
    """Count a call as this process's while it starts, until its session is live."""
    global _starting
    _starting += 1
    try:
        yield
    finally:
        _starting -= 1
