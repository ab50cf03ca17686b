"""The agent's voice from a Live session, handed to the call at the pace it is heard.

Gemini sends a turn's audio faster than real time. It waits here and is handed on at most
`LEAD_SECONDS` ahead of real time, its words and the actions that follow it (the turn's end)
in order with it: the caller's widget holds little, the words are captioned as they are heard,
and a barge-in (`clear`) silences the agent at once.
"""

import asyncio
from collections.abc import Awaitable, Callable

import numpy as np

from voice.engines.base import EngineListener
from voice.engines.pacing import RealTimePace

LEAD_SECONDS = 0.2

Action = Callable[[], Awaitable[None]]


class Playout:
    """Queue the agent's voice with `audio`, `text` and `then`; `play()` hands it on."""

    def __init__(self, listener: EngineListener) -> None:
        self._listener = listener
        self._queue: asyncio.Queue[np.ndarray | str | Action] = asyncio.Queue()
        self._pace = RealTimePace(LEAD_SECONDS)
        self._cleared = 0  # clears so far: an item taken before the last clear is dropped

    @property
    def audible(self) -> bool:
        """Whether agent audio is waiting, or handed on and not yet heard to its end."""
        return not self._queue.empty() or self._pace.playing

    def audio(self, pcm: np.ndarray) -> None:
        self._queue.put_nowait(pcm)

    def text(self, piece: str) -> None:
        self._queue.put_nowait(piece)

    def then(self, action: Action) -> None:
        """Run `action` once everything queued before it has been played."""
        self._queue.put_nowait(action)

    def clear(self) -> None:
        """Drop everything not handed on yet, actions included."""
        self._cleared += 1
        self._pace.restart()
        while not self._queue.empty():
            self._queue.get_nowait()

    async def play(self) -> None:
        """Hand on what is queued, in order and in time, until cancelled."""
        while True:
            item = await self._queue.get()
            cleared = self._cleared
            if isinstance(item, np.ndarray):
                await self._pace.wait_for(len(item))
                if cleared == self._cleared:
                    await self._listener.agent_audio(item)
            elif isinstance(item, str):
                await self._listener.agent_text(item)
            else:
                await item()
