"""What the simulated callers say: 440 Hz tone bursts and silence, as PCM16 at any rate.

`BURST_SECONDS` of tone, then `GAP_SECONDS` of silence, over and over, so both speech-like audio
(the VAD takes the tone for speech) and silence flow. The period is a whole number of frames of
every length a caller may declare (10, 20, 40 and 60 ms), so each burst starts a frame and its
onset is the first sample of a known frame.
"""

from functools import cache

import numpy as np

from bench.signals import tone

BURST_SECONDS = 1.5
GAP_SECONDS = 1.02
PERIOD_MS = round((BURST_SECONDS + GAP_SECONDS) * 1000)
FREQUENCY = 440.0
AMPLITUDE = 0.3

Chunks = list[tuple[bytes, bool]]  # (frame, whether a burst starts with it)


@cache
def period(rate: int) -> np.ndarray:
    """One burst and its gap, int16 PCM at `rate`."""
    burst = tone(FREQUENCY, BURST_SECONDS, rate=rate, amplitude=AMPLITUDE)
    return np.concatenate((burst, np.zeros(round(GAP_SECONDS * rate), dtype=np.int16)))


def signal(seconds: float, rate: int) -> np.ndarray:
    """`seconds` of bursts and gaps, int16 PCM at `rate`."""
    return np.resize(period(rate), round(seconds * rate))


def burst_starts(index: int, frame_ms: int) -> bool:
    """Whether frame `index` of `frame_ms` starts a burst."""
    return index * frame_ms % PERIOD_MS == 0


def caller_chunks(seconds: float, *, rate: int, frame_ms: int) -> Chunks:
    """`seconds` of the signal as PCM16 little-endian frames of `frame_ms`."""
    data = signal(seconds, rate).astype("<i2").tobytes()
    size = rate * frame_ms // 1000 * 2
    starts = range(0, len(data) - size + 1, size)
    return [
        (data[at : at + size], burst_starts(index, frame_ms)) for index, at in enumerate(starts)
    ]
