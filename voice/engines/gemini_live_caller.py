"""The caller's side of a Live session: their audio at 16 kHz for the model (as sent, when they
send 16 kHz), when they start to speak and when they last spoke (the call's speech detector and
speech floor), and their words, as the model transcribes them in pieces, gathered into one turn
with its call-clock times."""

import time

import numpy as np

from voice.audio.base import CallerAudio, empty_pcm, level_dbfs
from voice.call.barge_in import CALLER_SPEECH_FLOOR_DBFS
from voice.call.clock import CallClock
from voice.speech.resample import OUT_RATE, Resampler24kTo16k
from voice.speech.vad import SpeechStarted, VoiceActivityDetector


class CallerVoice:
    def __init__(self, clock: CallClock, detector: VoiceActivityDetector) -> None:
        self._clock = clock
        self._detector = detector
        self._resampler = Resampler24kTo16k()
        self._unresampled = empty_pcm()  # under 3 samples: the resampler takes blocks of 3
        self._pieces: list[str] = []
        self._started_ms: int | None = None  # the caller began to speak (since the last turn)
        self._first_piece_ms = 0
        self._spoke_ms = 0
        self.last_spoke_at = 0.0  # monotonic: the last audio above the speech floor

    def hear(self, audio: CallerAudio) -> bool:
        """Follow the caller's audio; whether they started to speak in it."""
        if level_dbfs(audio.speech) > CALLER_SPEECH_FLOOR_DBFS:
            self.last_spoke_at, self._spoke_ms = time.monotonic(), self._clock.ms()
        events = self._detector.feed(audio.speech)
        started = any(isinstance(event, SpeechStarted) for event in events)
        if started and self._started_ms is None:
            self._started_ms = self._clock.ms()
        return started

    def at_16k(self, audio: CallerAudio) -> np.ndarray:
        """The caller's audio at 16 kHz: as sent when it came at 16 kHz, else resampled (a
        sample or two may wait for the next call)."""
        if audio.speech_rate == OUT_RATE:
            return audio.speech
        samples = np.concatenate((self._unresampled, audio.pcm))
        usable = len(samples) - len(samples) % 3
        self._unresampled = samples[usable:]
        return self._resampler.process(samples[:usable])

    def words(self, piece: str) -> None:
        """A piece of what the caller said, as transcribed."""
        if not self._pieces:
            self._first_piece_ms = self._clock.ms()
        self._pieces.append(piece)

    def turn(self) -> tuple[str, int, int] | None:
        """The caller's words since the last turn, with their start and end (call ms); None
        when there are none."""
        text = " ".join("".join(self._pieces).split())
        start = self._first_piece_ms
        if self._started_ms is not None:
            start = min(start, self._started_ms)
        self._pieces, self._started_ms = [], None
        if not text:
            return None
        return text, start, max(start, self._spoke_ms)
