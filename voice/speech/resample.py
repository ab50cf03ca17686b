"""PCM24k -> 16 kHz, the rate webrtcvad and pocketsphinx's model work at.

24 000 -> 16 000 Hz is the exact ratio 2/3: every 3 input samples give 2 output samples, one on
an input sample and one halfway between two. A two-phase windowed-sinc FIR computes that exactly
in numpy, with no per-call codec object and a fixed history, so a block of 3n samples always
gives exactly 2n samples: a 20 ms VAD frame (480 samples) maps to exactly one 20 ms frame at
16 kHz (320), whatever chunking the audio arrived in. (libswresample through PyAV returns
varying counts per call and would need a second buffer to re-frame.)
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from voice.audio.base import PCM_RATE

OUT_RATE = 16_000
HALF_WIDTH = 18  # input samples each side of an output sample; also the delay, in input samples
CUTOFF_HZ = 7_200  # below the 8 kHz output Nyquist, above what either consumer listens to
KAISER_BETA = 8.0  # ~80 dB stop band

assert PCM_RATE * 2 == OUT_RATE * 3


def _taps(offsets: np.ndarray) -> np.ndarray:
    """Kaiser-windowed sinc low-pass sampled at ``offsets`` (input samples), unit DC gain."""
    fc = CUTOFF_HZ / PCM_RATE
    window = np.i0(KAISER_BETA * np.sqrt(1 - (offsets / HALF_WIDTH) ** 2)) / np.i0(KAISER_BETA)
    taps = 2 * fc * np.sinc(2 * fc * offsets) * window
    return (taps / taps.sum()).astype(np.float32)


# Phase 0 lands on an input sample, phase 1 halfway between two; both span 2 * HALF_WIDTH inputs.
_PHASE_ON = _taps(np.arange(1 - HALF_WIDTH, HALF_WIDTH + 1, dtype=np.float64))
_PHASE_HALF = _taps(np.arange(1 - HALF_WIDTH, HALF_WIDTH + 1, dtype=np.float64) - 0.5)


class Resampler24kTo16k:
    """Streaming 24 kHz -> 16 kHz; output lags the input by ``HALF_WIDTH`` input samples."""

    def __init__(self) -> None:
        self._history = np.zeros(2 * HALF_WIDTH, dtype=np.float32)

    def process(self, pcm: np.ndarray) -> np.ndarray:
        """Resample int16 PCM whose length is a multiple of 3; returns 2/3 as many samples."""
        if len(pcm) % 3:
            raise ValueError(f"need a multiple of 3 samples, got {len(pcm)}")
        blocks = len(pcm) // 3
        buffer = np.concatenate((self._history, pcm.astype(np.float32)))
        windows = sliding_window_view(buffer, 2 * HALF_WIDTH)
        out = np.empty(2 * blocks, dtype=np.float32)
        out[0::2] = windows[1::3][:blocks] @ _PHASE_ON
        out[1::2] = windows[2::3][:blocks] @ _PHASE_HALF
        self._history = buffer[len(buffer) - 2 * HALF_WIDTH :]
        return np.clip(np.rint(out), -32768, 32767).astype(np.int16)

    def skip(self, pcm: np.ndarray) -> None:
        """Pass over ``pcm`` without resampling it: what follows resamples exactly as if it had
        been (the filter's history is only the last input samples)."""
        tail = np.asarray(pcm[-2 * HALF_WIDTH :], dtype=np.float32)
        self._history = np.concatenate((self._history, tail))[-2 * HALF_WIDTH :]


def resample_24k_to_16k(pcm: np.ndarray) -> np.ndarray:
    """Resample a whole PCM24k clip to 16 kHz, time-aligned (the filter delay removed)."""
    out_len = len(pcm) * 2 // 3
    padded = np.concatenate((pcm, np.zeros(HALF_WIDTH + (-len(pcm)) % 3, dtype=np.int16)))
    return Resampler24kTo16k().process(padded)[HALF_WIDTH * 2 // 3 :][:out_len]
