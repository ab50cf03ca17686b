"""A call cannot be held open forever: the tenant's idle timeout and maximum duration.

No caller speech and no typed text for the idle timeout: the agent says goodbye and the call
ends (`timeout`). At the maximum duration the agent says goodbye and the call ends
(`max_duration`).
"""

import asyncio
import time
from collections.abc import Awaitable, Callable

from voice.models import EndReason

IDLE_GOODBYE = "I haven't heard from you for a while, so I'll end the call here. Goodbye!"
MAX_DURATION_GOODBYE = "We've reached the time limit for this call. Thank you for calling, goodbye!"


class CallTimers:
    def __init__(
        self,
        *,
        idle_seconds: float,
        max_seconds: float,
        say: Callable[[str], Awaitable[None]],
        end_call: Callable[[EndReason], None],
    ) -> None:
        self._idle_seconds = idle_seconds
        self._max_seconds = max_seconds
        self._say = say
        self._end_call = end_call
        self._started = self._caller_active_at = time.monotonic()

    def caller_active(self) -> None:
        """The caller spoke or typed: the idle timeout starts again."""
        self._caller_active_at = time.monotonic()

    async def run(self) -> None:
        """Wait for the first limit reached; say goodbye and ask for the call to end."""
        while True:
            now = time.monotonic()
            idle_left = self._caller_active_at + self._idle_seconds - now
            duration_left = self._started + self._max_seconds - now
            if duration_left <= 0:
                await self._say(MAX_DURATION_GOODBYE)
                self._end_call(EndReason.MAX_DURATION)
                return
            if idle_left <= 0:
                await self._say(IDLE_GOODBYE)
                self._end_call(EndReason.TIMEOUT)
                return
            await asyncio.sleep(min(idle_left, duration_left))
