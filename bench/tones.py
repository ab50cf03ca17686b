"""What the simulated callers say: 440 Hz tone bursts and silence, PCM16 at 16 kHz, 20 ms chunks.

`BURST_SECONDS` of tone, then `GAP_SECONDS` of silence, over and over, so both speech-like audio
(the VAD takes the tone for speech) and silence flow. Each burst starts a chunk, so its onset is
the first sample of a known chunk.
"""

from collections.abc import Iterator
from functools import cache

import numpy as np

from bench.signals import tone

RATE = 16_000
CHUNK_SECONDS = 0.02
CHUNK_SAMPLES = round(RATE * CHUNK_SECONDS)
BURST_SECONDS = 1.5
GAP_SECONDS = 1.0
FREQUENCY = 440.0
AMPLITUDE = 0.3


@cache
def _period() -> tuple[bytes, ...]:
    """One burst and its gap, as chunks of PCM16 little-endian."""
    burst = tone(FREQUENCY, BURST_SECONDS, rate=RATE, amplitude=AMPLITUDE)
    pcm = np.concatenate((burst, np.zeros(round(GAP_SECONDS * RATE), dtype=np.int16)))
    data = pcm.astype("<i2").tobytes()
    size = CHUNK_SAMPLES * 2
    return tuple(data[i : i + size] for i in range(0, len(data), size))


def caller_chunks(seconds: float) -> Iterator[tuple[bytes, bool]]:
    """`seconds` of the signal as (chunk, whether a burst starts with it)."""
    period = _period()
    for index in range(round(seconds / CHUNK_SECONDS)):
        yield period[index % len(period)], index % len(period) == 0
