"""The caller's spoken turns: cut by voice activity, transcribed one by one, in order.

Every utterance is transcribed whichever path the call is on (voice or text fallback), so what
the caller said is in the transcript even when the sidecar is gone. Only the speech the VAD
marks reaches the recognizer (`voice.call.speech_segments`); speech that is still going on at
the end of the call is transcribed too.

Nothing in the audio path waits for the recognizer: segments wait in a bounded queue of their
own per call and one task transcribes them. When the recognizer falls behind (the machine is
busy), the oldest waiting segment is dropped, counted and logged: the call's captions degrade,
its audio does not.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

from nexus_project.metrics import SPEECH_SEGMENTS_DROPPED
from voice.audio.base import PCM_RATE, CallerAudio
from voice.call.clock import CallClock
from voice.call.speech_segments import SpeechSegment, SpeechSegmenter
from voice.speech.stt import NoSpeechToText, SpeechContext, SpeechToText
from voice.speech.vad import SpeechStarted, VoiceActivityDetector

logger = logging.getLogger(__name__)

QUEUE_LIMIT = 4  # segments of a call waiting for the recognizer

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
        queue_limit: int = QUEUE_LIMIT,
    ) -> None:
        self._detector = detector
        self._segmenter = SpeechSegmenter(detector)
        self._deaf = isinstance(stt, NoSpeechToText)  # no segment to cut: onsets only
        self._stt = stt
        self._speech = speech
        self._clock = clock
        self._on_speech_start = on_speech_start
        self._on_utterance = on_utterance
        self.dropped = 0  # segments never transcribed: the recognizer was behind
        # Each segment with its start and end in call ms; None: the end.
        self._queue: asyncio.Queue[tuple[np.ndarray, int, int] | None] = asyncio.Queue(queue_limit)
        self._worker = asyncio.create_task(self._transcribe_all(), name="caller-turns")

    async def audio(self, audio: CallerAudio) -> None:
        """Feed the caller's decoded audio; to a provider that hears nothing, only the speech
        onsets (barge-in) are looked for."""
        items = self._detector.feed(audio.speech) if self._deaf else self._segmenter.feed(audio)
        for item in items:
            if isinstance(item, SpeechStarted):
                await self._on_speech_start()
            elif isinstance(item, SpeechSegment):
                self._enqueue(item)

    def _enqueue(self, segment: SpeechSegment) -> None:
        now_ms, fed = self._clock.ms(), self._segmenter.fed
        start_ms, end_ms = (
            max(0, now_ms - (fed - at) * 1000 // PCM_RATE) for at in (segment.start, segment.end)
        )
        if self._queue.full():
            oldest = self._queue.get_nowait()
            assert oldest is not None  # the end is queued last, after every segment
            self.dropped += 1
            SPEECH_SEGMENTS_DROPPED.inc()
            logger.warning(
                "speech-to-text is behind: a %d ms utterance was dropped untranscribed"
                " (%d in this call)",
                oldest[2] - oldest[1],
                self.dropped,
            )
        self._queue.put_nowait((segment.pcm, start_ms, end_ms))

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
        if (segment := self._segmenter.flush()) is not None:
            self._enqueue(segment)
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
