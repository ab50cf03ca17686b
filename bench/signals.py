"""Test signals and their analysis, for tests and benchmarks: tones and dominant frequency.

They accept int16 PCM (full scale `FULL_SCALE`) or float PCM (full scale 1.0), as sphn returns.
Levels (`rms`, `level_dbfs`) are the product's own, in `voice.audio.base`.
"""

import numpy as np

from voice.audio.base import FULL_SCALE, PCM_RATE


def tone(freq: float, seconds: float, rate: int = PCM_RATE, amplitude: float = 0.5) -> np.ndarray:
    """A sine at ``freq`` Hz as int16 PCM; ``amplitude`` is a fraction of full scale."""
    t = np.arange(round(seconds * rate)) / rate
    return np.round(np.sin(2 * np.pi * freq * t) * amplitude * (FULL_SCALE - 1)).astype(np.int16)


def dominant_frequency(pcm: np.ndarray, rate: int = PCM_RATE) -> float:
    """The strongest frequency in ``pcm``, in Hz (Hann window, parabolic peak interpolation)."""
    signal = pcm.astype(np.float64)
    if np.issubdtype(pcm.dtype, np.integer):
        signal /= FULL_SCALE
    if signal.size < 2:
        raise ValueError("need at least two samples")
    spectrum = np.abs(np.fft.rfft((signal - signal.mean()) * np.hanning(signal.size)))
    peak = int(np.argmax(spectrum))
    offset = 0.0
    if 0 < peak < spectrum.size - 1:
        left, center, right = np.log(spectrum[peak - 1 : peak + 2] + 1e-12)
        curvature = left - 2 * center + right
        offset = 0.5 * (left - right) / curvature if curvature else 0.0
    return float((peak + offset) * rate / signal.size)
