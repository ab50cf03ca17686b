"""Signal helpers for tests and benchmarks: test tones, dominant frequency, level.

They accept int16 PCM (full scale 32768) or float PCM (full scale 1.0), as sphn returns.
"""

import numpy as np

from voice.audio.base import PCM_RATE

FULL_SCALE_INT16 = 32768.0


def tone(freq: float, seconds: float, rate: int = PCM_RATE, amplitude: float = 0.5) -> np.ndarray:
    """A sine at ``freq`` Hz as int16 PCM; ``amplitude`` is a fraction of full scale."""
    t = np.arange(round(seconds * rate)) / rate
    return np.round(np.sin(2 * np.pi * freq * t) * amplitude * 32767).astype(np.int16)


def _normalized(pcm: np.ndarray) -> np.ndarray:
    if np.issubdtype(pcm.dtype, np.integer):
        return pcm.astype(np.float64) / FULL_SCALE_INT16
    return pcm.astype(np.float64)


def dominant_frequency(pcm: np.ndarray, rate: int = PCM_RATE) -> float:
    """The strongest frequency in ``pcm``, in Hz (Hann window, parabolic peak interpolation)."""
    signal = _normalized(pcm)
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


def rms(pcm: np.ndarray) -> float:
    """Root mean square level as a fraction of full scale (0.0 for silence or no samples)."""
    signal = _normalized(pcm)
    return float(np.sqrt(np.mean(signal**2))) if signal.size else 0.0


def level_dbfs(pcm: np.ndarray) -> float:
    """RMS level in dB relative to full scale (-inf for digital silence)."""
    level = rms(pcm)
    return float(20 * np.log10(level)) if level > 0 else float("-inf")
