"""Handing the agent's audio on at the pace it is heard, a little ahead of real time.

An engine that makes the agent's audio faster than real time (speech synthesis, Gemini Live)
hands it to the caller through a `RealTimePace`: the widget then holds little, the words are
captioned as they are heard, and a barge-in silences the agent at once.
"""

import asyncio
import time

from voice.audio.base import PCM_RATE


class RealTimePace:
    def __init__(self, lead_seconds: float) -> None:
        self._lead = lead_seconds
        self._played_until = 0.0  # monotonic time the audio handed on so far ends

    @property
    def playing(self) -> bool:
        """Whether audio handed on has not been heard to its end yet."""
        return self._played_until > time.monotonic()

    async def wait_for(self, samples: int) -> None:
        """Wait until `samples` more of PCM24k may be handed on, and count them as handed on."""
        now = time.monotonic()
        self._played_until = max(self._played_until, now)  # playback ran dry: from now on
        ahead = self._played_until - now
        if ahead > self._lead:
            await asyncio.sleep(ahead - self._lead)
        self._played_until += samples / PCM_RATE

    def restart(self) -> None:
        """What was handed on is dropped (a barge-in): nothing is playing any more."""
        self._played_until = 0.0
