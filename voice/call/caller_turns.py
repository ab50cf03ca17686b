"""The caller's spoken turns: cut by voice activity, transcribed one by one, in order.

Every utterance is transcribed whichever path the call is on (voice or text fallback), so what
the caller said is in the transcript even when the sidecar is gone. A segment is capped at
`MAX_SEGMENT_SECONDS` to bound memory; speech that is still going on at the end of the call is
transcribed too.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

from voice.audio.base import PCM_RATE, join_pcm
from voice.call.clock import CallClock
from voice.speech.stt import SpeechContext, SpeechToText
from voice.speech.vad import SpeechEnded, SpeechStarted, VoiceActivityDetector

logger = logging.getLogger(__name__)

PREROLL_SECONDS = 0.3  # audio kept from before the detector fired: the first syllable
MAX_SEGMENT_SECONDS = 30
QUEUE_LIMIT = 8

SpeechStart = Callable[[], Awaitable[object]]
Utterance = Callable[[str, int, int], Awaitable[None]]  # text, start and end (call ms)


class CallerTurns:
    def __init__(
        self,
        *,
        detector: VoiceActivityDetector,
        stt: SpeechToText,
        speech: SpeechContext,
        clock: CallClock,
        on_speech_start: SpeechStart,
        on_utterance: Utterance,
    ) -> None:
        self._vad = detector
        self._stt = stt
        self._speech = speech
        self._clock = clock
        self._on_speech_start = on_speech_start
        self._on_utterance = on_utterance
        self._preroll: list[np.ndarray] = []
        self._segment: list[np.ndarray] | None = None
        self._segment_samples = 0
        self._segment_start_ms = 0
        self._queue: asyncio.Queue[tuple[np.ndarray, int, int] | None] = asyncio.Queue(QUEUE_LIMIT)
        self._worker = asyncio.create_task(self._transcribe_all(), name="caller-turns")

    async def audio(self, pcm: np.ndarray) -> None:
        """Feed the caller's decoded audio (PCM24k)."""
        events = self._vad.feed(pcm)
        if self._segment is None:
            self._keep_preroll(pcm)
        else:
            self._segment.append(pcm)
            self._segment_samples += len(pcm)
        for event in events:
            if isinstance(event, SpeechStarted) and self._segment is None:
                self._segment, self._preroll = self._preroll, []
                self._segment_samples = sum(len(part) for part in self._segment)
                held_ms = self._segment_samples * 1000 // PCM_RATE
                self._segment_start_ms = max(0, self._clock.ms() - held_ms)
                await self._on_speech_start()
            elif isinstance(event, SpeechEnded):
                self._cut()
        if self._segment_samples > MAX_SEGMENT_SECONDS * PCM_RATE:
            self._cut()

    def _keep_preroll(self, pcm: np.ndarray) -> None:
        self._preroll.append(pcm)
        while sum(len(p) for p in self._preroll[1:]) > PREROLL_SECONDS * PCM_RATE:
            self._preroll.pop(0)

    def _cut(self) -> None:
        if self._segment is None:
            return
        segment, self._segment, self._segment_samples = join_pcm(self._segment), None, 0
        item = (segment, self._segment_start_ms, self._clock.ms())
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            logger.warning("speech-to-text is behind: an utterance was not transcribed")

    async def _transcribe_all(self) -> None:
        while (item := await self._queue.get()) is not None:
            pcm, start_ms, end_ms = item
            try:
                text = await self._stt.transcribe(pcm, self._speech)
            except Exception:
                logger.exception("speech-to-text failed on a %d ms utterance", end_ms - start_ms)
                continue
            if text:
                await self._on_utterance(text, start_ms, end_ms)

    async def close(self) -> None:
        """Transcribe what is still being said and what is queued, then stop."""
        self._cut()
        await self._queue.put(None)
        await self._worker


@dataclass(frozen=True)
class Hearing:
    """How a call hears its caller: a speech detector per stream, speech-to-text told what the
    call's speech is likely to be, and the call's clock."""

    detector: Callable[[], VoiceActivityDetector]
    stt: SpeechToText
    speech: SpeechContext
    clock: CallClock

    def turns(self, *, on_speech_start: SpeechStart, on_utterance: Utterance) -> CallerTurns:
        return CallerTurns(
            detector=self.detector(),
            stt=self.stt,
            speech=self.speech,
            clock=self.clock,
            on_speech_start=on_speech_start,
            on_utterance=on_utterance,
        )
