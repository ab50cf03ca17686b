"""How calls end: a stage asks for its call's end, and a stopping server ends them all."""

import asyncio
import logging
import weakref
from typing import TYPE_CHECKING

from voice.models import EndReason

if TYPE_CHECKING:
    from voice.call.session import CallSession

logger = logging.getLogger(__name__)


class EndRequest:
    """How a stage asks for its call to end, without waiting for it; the first reason counts."""

    def __init__(self) -> None:
        self._reason: asyncio.Future[EndReason] = asyncio.get_running_loop().create_future()

    def __call__(self, reason: EndReason) -> None:
        if not self._reason.done():
            self._reason.set_result(reason)

    async def wait(self) -> EndReason:
        return await self._reason


# The calls this process serves, until they have ended (a stopping server waits for them).
live_calls: "weakref.WeakSet[CallSession]" = weakref.WeakSet()


async def calls_end_all(reason: EndReason) -> None:
    """End every live call of this process, each caller told (`ended`): a server stopping."""
    sessions = list(live_calls)
    ended = await asyncio.gather(
        *(session.end(reason, notify=True) for session in sessions), return_exceptions=True
    )
    for session, outcome in zip(sessions, ended, strict=True):
        if isinstance(outcome, BaseException):
            logger.error("call %s did not end cleanly", session.call_id, exc_info=outcome)
