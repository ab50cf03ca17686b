"""Raw PCM16 (signed 16-bit little-endian mono): the AudioWorklet format, the lowest latency.

Input may come at any rate from 8000 to 48000 Hz and in any byte count: an odd trailing byte is
kept for the next chunk. Output is always PCM24k (and, on request, the samples as sent), so the
encoder only serializes.
"""

import av
import numpy as np

from voice.audio.base import PCM_RATE, PcmResampler, empty_pcm

MIN_RATE = 8_000
MAX_RATE = 48_000


class Pcm16Decoder:
    """PCM16 at ``rate`` -> PCM24k. Any bytes are valid PCM: it never raises AudioDecodeError."""

    def __init__(self, rate: int = PCM_RATE) -> None:
        if not MIN_RATE <= rate <= MAX_RATE:
            raise ValueError(f"pcm16 rate must be {MIN_RATE}..{MAX_RATE}, got {rate}")
        self._rate = rate
        self._odd_byte = b""
        # At 24 kHz already (the common case) there is nothing to resample.
        self._resampler = PcmResampler() if rate != PCM_RATE else None

    def decode(self, data: bytes) -> np.ndarray:
        return self.decode_sent(data)[0]

    def decode_sent(self, data: bytes) -> tuple[np.ndarray, np.ndarray]:
        """The PCM24k decoded so far, and the same samples as sent (at the decoder's rate)."""
        if self._odd_byte:
            data = self._odd_byte + data
        even = len(data) & ~1
        self._odd_byte = data[even:]
        samples = np.frombuffer(data, dtype="<i2", count=even // 2).astype(np.int16)
        if self._resampler is None or not samples.size:
            return samples, samples
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self._rate
        return self._resampler.convert(frame), samples

    def flush(self) -> np.ndarray:
        self._odd_byte = b""
        return self._resampler.convert(None) if self._resampler is not None else empty_pcm()

    def close(self) -> None:
        """Nothing to release: the resampler is freed with the decoder."""


class Pcm16Encoder:
    """PCM24k -> 24 kHz s16le bytes, one message per non-empty chunk."""

    def encode(self, pcm: np.ndarray) -> list[bytes]:
        return [pcm.astype("<i2", copy=False).tobytes()] if pcm.size else []

    def flush(self) -> list[bytes]:
        return []
