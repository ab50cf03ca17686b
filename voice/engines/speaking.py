"""The cascade's voice: an answer's sentences synthesized ahead, played at real-time pace, its
words captioned as they are heard.

Sentences are synthesized in order while earlier ones play (at most `AHEAD_SENTENCES` ahead).
Audio goes to the caller in `CHUNK_SECONDS` pieces, at most `LEAD_SECONDS` ahead of real time:
a barge-in then cuts the agent off at once, and what was said is what was played (each
sentence's words are captioned in step with its audio).
"""

import asyncio
import math
import time

import numpy as np

from voice.audio.base import PCM_RATE
from voice.engines.base import EngineListener
from voice.engines.pacing import RealTimePace
from voice.engines.voices import Voice
from voice.speech.tts import TextToSpeech

CHUNK_SAMPLES = PCM_RATE * 40 // 1000
LEAD_SECONDS = 0.1
AHEAD_SENTENCES = 2


class Speaker:
    """Speaks one answer: `say()` each sentence as it is known, then `finish()`."""

    def __init__(
        self, *, tts: TextToSpeech, voice: Voice, language: str, listener: EngineListener
    ) -> None:
        self._tts = tts
        self._voice = voice
        self._language = language
        self._listener = listener
        self._sentences: asyncio.Queue[str | None] = asyncio.Queue()
        self._audio: asyncio.Queue[tuple[str, np.ndarray] | None] = asyncio.Queue(AHEAD_SENTENCES)
        self._pace = RealTimePace(LEAD_SECONDS)
        self.first_audio_at: float | None = None  # monotonic
        self._tasks = [
            asyncio.create_task(self._synthesize_all(), name="speaker-synthesis"),
            asyncio.create_task(self._play_all(), name="speaker-playback"),
        ]

    def say(self, sentence: str) -> None:
        self._sentences.put_nowait(sentence)

    async def finish(self) -> None:
        """Wait until every sentence said has been played."""
        self._sentences.put_nowait(None)
        await asyncio.gather(*self._tasks)

    async def stop(self) -> None:
        """Stop at once: nothing more is synthesized or played."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _synthesize_all(self) -> None:
        while (sentence := await self._sentences.get()) is not None:
            pcm = await self._tts.synthesize(sentence, self._voice, self._language)
            await self._audio.put((sentence, pcm))
        await self._audio.put(None)

    async def _play_all(self) -> None:
        while (item := await self._audio.get()) is not None:
            await self._play(*item)

    async def _play(self, sentence: str, pcm: np.ndarray) -> None:
        words = sentence.split()
        captioned = 0
        for start in range(0, max(len(pcm), 1), CHUNK_SAMPLES):
            chunk = pcm[start : start + CHUNK_SAMPLES]
            if len(chunk):
                await self._pace.wait_for(len(chunk))
                self.first_audio_at = self.first_audio_at or time.monotonic()
                await self._listener.agent_audio(chunk)
            played = (start + len(chunk)) / len(pcm) if len(pcm) else 1.0
            heard = math.ceil(len(words) * played)
            if heard > captioned:
                await self._listener.agent_text(" " + " ".join(words[captioned:heard]))
                captioned = heard
