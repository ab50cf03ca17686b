"""The caller's audio cut into the speech segments the VAD marks, silence left out.

A segment runs from `PAD_SECONDS` before the speech's onset (the detector fires `start_ms` after
it) to `PAD_SECONDS` after its last voiced frame (the detector ends `end_ms` after it): the
recognizer is given speech, with just enough around it that no word is clipped, and never the
detector's hangover or the silence between turns. A segment is capped at `MAX_SEGMENT_SECONDS`
to bound memory: longer speech goes on in the next one. Positions are stream samples (PCM24k)
from the first sample fed.
"""

from dataclasses import dataclass

import numpy as np

from voice.audio.base import PCM_RATE, CallerAudio, join_pcm
from voice.speech.vad import SpeechEnded, SpeechStarted, VoiceActivityDetector

PAD_SECONDS = 0.25
MAX_SEGMENT_SECONDS = 30


@dataclass(frozen=True)
class SpeechSegment:
    pcm: np.ndarray
    start: int  # stream sample of its first sample
    end: int  # stream sample just after its last


def _samples(ms: int) -> int:
    return ms * PCM_RATE // 1000


class SpeechSegmenter:
    """One per audio stream: feed the caller's audio, get speech onsets and finished segments
    (PCM24k), in order."""

    def __init__(
        self,
        detector: VoiceActivityDetector,
        *,
        pad_seconds: float = PAD_SECONDS,
        max_seconds: float = MAX_SEGMENT_SECONDS,
    ) -> None:
        self._vad = detector
        self._pad = round(pad_seconds * PCM_RATE)
        self._max = round(max_seconds * PCM_RATE)
        # Between segments only the audio a next onset can reach back to is kept.
        self._lead = self._pad + _samples(detector.start_ms)
        self._chunks: list[np.ndarray] = []
        self._first = 0  # stream sample of the first kept sample
        self.fed = 0  # stream samples fed so far
        self._from: int | None = None  # start of the segment under way

    def feed(self, audio: CallerAudio) -> list[SpeechStarted | SpeechSegment]:
        """Feed audio of any length (its speech to the detector, its PCM24k kept): the speech
        onsets and the segments it completed."""
        events = self._vad.feed(audio.speech)
        pcm = audio.pcm
        self._chunks.append(pcm)
        self.fed += len(pcm)
        out: list[SpeechStarted | SpeechSegment] = []
        for event in events:
            at = _samples(event.at_ms)
            if isinstance(event, SpeechStarted):
                self._from = max(self._first, at - _samples(self._vad.start_ms) - self._pad)
                out.append(event)
            elif isinstance(event, SpeechEnded) and self._from is not None:
                end = min(self.fed, at - _samples(self._vad.end_ms) + self._pad)
                if end > self._from:  # else it all went in the segment cut at the cap
                    out.append(self._cut(end))
                self._from = None
        if self._from is not None and self.fed - self._from >= self._max:
            out.append(self._cut(self.fed))
            self._from = self.fed  # the speech goes on
        if self._from is None:
            self._forget()
        return out

    def flush(self) -> SpeechSegment | None:
        """The segment still under way (speech going on at the end of the stream), if any."""
        return self._cut(self.fed) if self._from is not None else None

    def _cut(self, end: int) -> SpeechSegment:
        assert self._from is not None
        audio = join_pcm(self._chunks)
        segment = SpeechSegment(
            audio[self._from - self._first : end - self._first], self._from, end
        )
        # A copy: the rest must not pin the segment's audio.
        self._chunks, self._first, self._from = [audio[end - self._first :].copy()], end, None
        return segment

    def _forget(self) -> None:
        """Drop the oldest chunks no onset can reach back to."""
        kept = self.fed - self._first
        while len(self._chunks) > 1 and kept - len(self._chunks[0]) >= self._lead:
            kept -= len(self._chunks.pop(0))
            self._first = self.fed - kept
