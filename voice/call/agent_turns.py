"""The voice agent's turns, assembled from the engine's word pieces.

Engines report the agent's words piece by piece as they are heard (PersonaPlex's 0x02 text,
Gemini Live's transcription, the cascade's words in step with its speech). A turn is
live-captioned piece by piece and becomes final when its engine says the turn is over, once no
piece has come for `gap_seconds` (PersonaPlex never says), when the caller barges in (marked
interrupted), or when its engine stops.
"""

import asyncio

from voice.call.clock import CallClock
from voice.call.transcript import FinalEntry, TranscriptRecorder


class AgentTurns:
    def __init__(
        self, *, transcript: TranscriptRecorder, clock: CallClock, gap_seconds: float = 1.2
    ) -> None:
        self._transcript = transcript
        self._clock = clock
        self._gap = gap_seconds
        self._id: str | None = None
        self._text = ""
        self._start_ms = 0
        self._closer: asyncio.Task | None = None

    async def piece(self, text: str) -> None:
        if self._id is None:
            self._id, self._text, self._start_ms = self._transcript.new_id(), "", self._clock.ms()
        self._text += text
        await self._transcript.caption(self._id, "agent", self._text.strip())
        if self._closer:
            self._closer.cancel()
        self._closer = asyncio.create_task(self._close_after_gap())

    async def _close_after_gap(self) -> None:
        await asyncio.sleep(self._gap)
        self._closer = None
        await self.finish()

    async def finish(self, *, interrupted: bool = False) -> None:
        """Make the current turn final (no-op when there is none)."""
        if self._closer and self._closer is not asyncio.current_task():
            self._closer.cancel()
        self._closer = None
        if self._id is None:
            return
        entry_id, text, self._id = self._id, self._text.strip(), None
        if text:
            entry = FinalEntry("agent", text, self._start_ms, self._clock.ms(), interrupted)
            await self._transcript.final(entry, entry_id)
