"""An engine that cannot serve at all (no sidecar configured, no Gemini key): it says so once.

It still hears the caller (speech-to-text), so that a call served in text meanwhile keeps
everything the caller says.
"""

import asyncio

from voice.audio.base import CallerAudio
from voice.call.caller_turns import CallerTurns
from voice.call.protocol import ModeReason
from voice.engines.base import EngineListener, EngineName


class UnavailableEngine:
    acts = False

    def __init__(
        self,
        name: EngineName,
        reason: ModeReason,
        listener: EngineListener,
        caller_turns: CallerTurns,
    ) -> None:
        self.name = name
        self._reason = reason
        self._listener = listener
        self._caller_turns = caller_turns

    async def run(self) -> None:
        await self._listener.unavailable(self._reason)
        await asyncio.Future()  # nothing to retry: the call is served by the fallback

    async def caller_audio(self, audio: CallerAudio, *, received_at: float) -> None:
        await self._caller_turns.audio(audio)

    async def close(self) -> None:
        await self._caller_turns.close()

    def latency(self) -> dict[str, object]:
        return {}
