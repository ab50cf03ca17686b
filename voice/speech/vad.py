"""Streaming voice-activity detection: barge-in and cutting the caller's turns.

A detector takes its stream at one rate: one of webrtcvad's own (`SPEECH_RATES`, a caller's
PCM16 as sent), heard as it is, or PCM24k, whose frames over the energy floor it resamples to
16 kHz for webrtcvad.

Each 20 ms frame is voiced when it is loud enough (an energy floor, so quiet noise and a faint
echo of the agent's own voice never count, whatever webrtcvad thinks of them) and webrtcvad
calls it speech. Hysteresis turns frames into events: speech starts after ``start_ms`` of
consecutive voiced frames and ends after ``end_ms`` of consecutive unvoiced ones.

Event times are stream time, in ms from the first sample fed, at the end of the frame that
decided: speech began ``start_ms`` before a ``SpeechStarted`` and stopped ``end_ms`` before a
``SpeechEnded``. Audio may be fed in any chunk size; the events do not depend on it.
"""

import math
from dataclasses import dataclass

import numpy as np
import webrtcvad

from voice.audio.base import FULL_SCALE, PCM_RATE, SPEECH_RATES
from voice.speech.resample import OUT_RATE, Resampler24kTo16k

FRAME_MS = 20


@dataclass(frozen=True)
class SpeechStarted:
    at_ms: int


@dataclass(frozen=True)
class SpeechEnded:
    at_ms: int


VadEvent = SpeechStarted | SpeechEnded


class VoiceActivityDetector:
    """One per audio stream (it holds state); feed audio at `rate`, get start/end events."""

    def __init__(
        self,
        *,
        rate: int = PCM_RATE,
        aggressiveness: int = 3,
        start_ms: int = 120,
        end_ms: int = 600,
        min_dbfs: float = -45.0,
    ) -> None:
        if start_ms <= 0 or end_ms <= 0:
            raise ValueError("start_ms and end_ms must be positive")
        if rate != PCM_RATE and rate not in SPEECH_RATES:
            raise ValueError(f"the detector takes PCM24k or {sorted(SPEECH_RATES)} Hz, not {rate}")
        self._vad = webrtcvad.Vad(aggressiveness)  # raises ValueError outside 0..3
        self._frame_samples = rate * FRAME_MS // 1000
        self._resampler = Resampler24kTo16k() if rate == PCM_RATE else None
        self._vad_rate = OUT_RATE if rate == PCM_RATE else rate
        self._start_frames = math.ceil(start_ms / FRAME_MS)
        self._end_frames = math.ceil(end_ms / FRAME_MS)
        self._min_rms = FULL_SCALE * 10 ** (min_dbfs / 20)
        self._pending = np.zeros(0, dtype=np.int16)
        self._frames_done = 0
        self._run = 0  # consecutive frames that disagree with the current state
        self._speaking = False

    @property
    def start_ms(self) -> int:
        """How long before a `SpeechStarted` the speech began."""
        return self._start_frames * FRAME_MS

    @property
    def end_ms(self) -> int:
        """How long before a `SpeechEnded` the speech stopped."""
        return self._end_frames * FRAME_MS

    @property
    def speaking(self) -> bool:
        """Whether the caller is speaking, as of the last complete frame."""
        return self._speaking

    def feed(self, pcm: np.ndarray) -> list[VadEvent]:
        """Feed audio at the detector's rate, of any length; return the events of the frames
        it completed."""
        samples = np.concatenate((self._pending, np.asarray(pcm, dtype=np.int16).reshape(-1)))
        usable = len(samples) - len(samples) % self._frame_samples
        self._pending = samples[usable:].copy()  # a copy: never pin the caller's big buffer
        if not usable:
            return []
        frames = samples[:usable].reshape(-1, self._frame_samples)
        levels = np.sqrt(np.mean(np.square(frames, dtype=np.float32), axis=1))
        loud = levels >= self._min_rms
        if self._resampler is not None:
            frames = self._resampled(self._resampler, samples[:usable], loud.any())
        events: list[VadEvent] = []
        for index, is_loud in enumerate(loud):
            voiced = bool(is_loud) and self._vad.is_speech(frames[index].tobytes(), self._vad_rate)
            self._frames_done += 1
            self._run = self._run + 1 if voiced != self._speaking else 0
            if self._run >= (self._end_frames if self._speaking else self._start_frames):
                self._speaking, self._run = not self._speaking, 0
                at_ms = self._frames_done * FRAME_MS
                events.append(SpeechStarted(at_ms) if self._speaking else SpeechEnded(at_ms))
        return events

    def _resampled(
        self, resampler: Resampler24kTo16k, samples: np.ndarray, needed: bool
    ) -> np.ndarray:
        """PCM24k `samples` at 16 kHz, one row per frame, when `needed` (a frame is over the
        energy floor, so webrtcvad hears it); else an empty array: quiet audio is not
        resampled."""
        if not needed:
            resampler.skip(samples)
            return np.zeros((0, 0), dtype=np.int16)
        return resampler.process(samples).reshape(len(samples) // self._frame_samples, -1)
