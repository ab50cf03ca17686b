"""Audio helpers for tests of code that talks to a sidecar: tones, Ogg pages, and analysis."""

import numpy as np
import sphn

from bench.signals import dominant_frequency
from voice.audio.base import rms
from voice.sidecar.emulator import FRAME_SAMPLES, SAMPLE_RATE

__all__ = [
    "decode_pages", "dominant_frequency", "is_header_page", "ogg_pages", "rms", "silence", "tone",
]  # fmt: skip


def tone(frames: int, frequency: float = 440.0, amplitude: float = 0.3) -> np.ndarray:
    """`frames` model steps (80 ms each) of a sine wave at 24 kHz, float32."""
    t = np.arange(frames * FRAME_SAMPLES) / SAMPLE_RATE
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def silence(frames: int) -> np.ndarray:
    """`frames` model steps of digital silence at 24 kHz, float32."""
    return np.zeros(frames * FRAME_SAMPLES, dtype=np.float32)


def ogg_pages(pcm: np.ndarray, packet_samples: int = FRAME_SAMPLES) -> list[bytes]:
    """A new Ogg/Opus stream of `pcm`: OpusHead, OpusTags, then one page per packet.

    `packet_samples` is an Opus frame size at 24 kHz: 480 (20 ms, as browsers send) .. 1920.
    """
    if pcm.size % packet_samples:
        raise ValueError(f"pcm length must be a multiple of {packet_samples}")
    writer = sphn.OpusStreamWriter(SAMPLE_RATE)
    pages = []
    for start in range(0, pcm.size, packet_samples):
        writer.append_pcm(pcm[start : start + packet_samples])
        while page := writer.read_bytes():
            pages.append(page)
    return pages


def is_header_page(page: bytes) -> bool:
    """True for an OpusHead or OpusTags page."""
    packet_start = 27 + page[26]  # fixed header, then one byte per segment
    return page[packet_start : packet_start + 8] in (b"OpusHead", b"OpusTags")


def decode_pages(pages: list[bytes]) -> tuple[np.ndarray, int]:
    """Decode a whole Ogg/Opus stream: mono float32 PCM and its sample rate (sphn gives 48 kHz)."""
    pcm, sample_rate = sphn.read_opus_bytes(b"".join(pages))
    return pcm[0], sample_rate
