"""The server's backlog drained: the load's CPU window closes once the watched processes go quiet.

Frames the server received but has not processed yet still cost CPU after the callers hung up, and
so do their speech-to-text and the post-call work in Celery. So the window closes only when the
watched processes together used no more than their idle rate plus `QUIET_CPU` (a share of one
CPU) over `QUIET_SECONDS`, or when `DEADLINE_SECONDS` passed (then the figures say so).
"""

import asyncio
import time
from collections.abc import Callable

QUIET_CPU = 0.05
QUIET_SECONDS = 1.0
DEADLINE_SECONDS = 60.0
IDLE_SECONDS = 2.0


def quiet(used: float, seconds: float, idle_rate: float) -> bool:
    """Whether `used` CPU seconds over `seconds` is no more than the idle rate plus `QUIET_CPU`."""
    return used <= (idle_rate + QUIET_CPU) * seconds


async def idle_rate(total_cpu: Callable[[], float], seconds: float = IDLE_SECONDS) -> float:
    """The CPU share the processes use with no call live, over `seconds`."""
    before, began = total_cpu(), time.monotonic()
    await asyncio.sleep(seconds)
    return (total_cpu() - before) / (time.monotonic() - began)


async def backlog_drained(
    total_cpu: Callable[[], float], idle: float, deadline: float = DEADLINE_SECONDS
) -> bool:
    """Wait until the processes are quiet (True) or `deadline` seconds passed (False)."""
    ends = time.monotonic() + deadline
    while time.monotonic() < ends:
        before, began = total_cpu(), time.monotonic()
        await asyncio.sleep(QUIET_SECONDS)
        if quiet(total_cpu() - before, time.monotonic() - began, idle):
            return True
    return False
