"""Ogg/Opus streams at 24 kHz mono: the sidecar link's format both ways, and a caller format.

Encoding: PyAV's libopus codec context makes one packet per frame (20 ms by default; 10, 40 or
60 ms when the audio comes in frames of that length) at once, and ``voice.audio.ogg`` wraps each
packet in its own page straight away. FFmpeg's Ogg muxer
cannot be used for this: whatever its options (``page_duration``, ``flush_packets``, small
buffers) it holds the newest page back until the next packet arrives, and PyAV has no muxer
flush; at its defaults it also fills ~1 s pages, which made a previous product 1.6 s late.

Decoding: ``voice.audio.ogg`` splits pages into packets as bytes arrive, and
``voice.audio.opus`` decodes each packet at once, so every page yields its audio as soon as it is
fed.
"""

import secrets

import av
import numpy as np

from voice.audio.base import PCM_RATE, AudioDecodeError, empty_pcm
from voice.audio.ogg import BOS, EOS, OggPacketReader, OggPageWriter
from voice.audio.opus import OpusPacketDecoder

FRAME_MS = 20
COMPLEXITY = 10  # libopus's best quality; 0..10, lower is cheaper
# Opus's own clock: it decodes at 48 kHz, and Ogg/Opus granule positions count 48 kHz samples
# (RFC 7845), whatever rate the encoder was given.
OPUS_RATE = 48_000
_VENDOR = b"nexus"
_OPUS_TAGS = b"OpusTags" + len(_VENDOR).to_bytes(4, "little") + _VENDOR + bytes(4)


class OggOpusStreamEncoder:
    """PCM24k -> Ogg/Opus pages: OpusHead and OpusTags pages first, then one page per frame of
    ``frame_ms``, encoded at libopus's ``complexity``."""

    def __init__(
        self,
        *,
        bitrate: int = 32_000,
        serial: int | None = None,
        frame_ms: int = FRAME_MS,
        complexity: int = COMPLEXITY,
    ) -> None:
        self._frame_samples = PCM_RATE * frame_ms // 1000
        self._codec = av.CodecContext.create("libopus", "w")
        self._codec.sample_rate = PCM_RATE
        self._codec.layout = "mono"
        self._codec.format = "s16"
        self._codec.bit_rate = bitrate
        self._codec.options = {
            "frame_duration": str(frame_ms),
            "compression_level": str(complexity),
        }
        self._codec.open()
        self._opus_head = bytes(self._codec.extradata or b"")  # libopus's OpusHead, once open
        self._pages = OggPageWriter(secrets.randbits(32) if serial is None else serial)
        self._pending = empty_pcm()
        self._samples = 0  # PCM24k samples given to the codec
        self._granule = 0
        self._started = False

    def encode(self, pcm: np.ndarray) -> list[bytes]:
        """Return the pages completed by ``pcm``, each a separate bytes object."""
        pages = self._header_pages()
        buffered = np.concatenate([self._pending, pcm.astype(np.int16, copy=False)])
        frame = self._frame_samples
        whole = len(buffered) - len(buffered) % frame
        for start in range(0, whole, frame):
            pages += self._encode_frame(buffered[start : start + frame])
        self._pending = buffered[whole:]
        return pages

    @property
    def encoded_samples(self) -> int:
        """PCM24k samples in the packets made so far (the stream a decoder can play)."""
        return self._samples

    def flush(self) -> list[bytes]:
        """Encode what is buffered and the codec's delay; the last page carries EOS and a granule
        position that trims the padding (RFC 7845), so decoders play exactly what was fed."""
        pages = self._header_pages()
        packets: list[av.Packet] = []
        if len(self._pending):  # libopus accepts a short last frame
            packets += self._codec.encode(self._frame(self._pending))
            self._samples += len(self._pending)
            self._pending = empty_pcm()
        packets += self._codec.encode(None)
        pre_skip = int.from_bytes(self._opus_head[10:12], "little")
        end = pre_skip + self._samples * OPUS_RATE // PCM_RATE
        for index, packet in enumerate(packets):
            self._granule = max(self._granule, min(self._granule + self._duration(packet), end))
            last = index == len(packets) - 1
            pages.append(self._pages.page(bytes(packet), self._granule, EOS if last else 0))
        return pages

    def _header_pages(self) -> list[bytes]:
        if self._started:
            return []
        self._started = True
        return [
            self._pages.page(self._opus_head, 0, BOS),
            self._pages.page(_OPUS_TAGS, 0),
        ]

    def _encode_frame(self, samples: np.ndarray) -> list[bytes]:
        pages = []
        for packet in self._codec.encode(self._frame(samples)):
            self._granule += self._duration(packet)
            pages.append(self._pages.page(bytes(packet), self._granule))
        self._samples += len(samples)
        return pages

    def _frame(self, samples: np.ndarray) -> av.AudioFrame:
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = PCM_RATE
        frame.pts = self._samples
        return frame

    def _duration(self, packet: av.Packet) -> int:
        """The packet's length in granule units (48 kHz samples)."""
        return (packet.duration or self._frame_samples) * OPUS_RATE // PCM_RATE


class OggOpusStreamDecoder:
    """Ogg/Opus bytes (pages in any chunking) -> PCM24k, decoded as soon as each page is complete.

    Any Opus channel count or input rate is accepted. Invalid bytes raise AudioDecodeError after
    the valid packets around them were decoded; their audio comes out of the next call, and the
    decoder resynchronizes on the next valid page. A new OpusHead (chained stream) restarts it.
    """

    def __init__(self) -> None:
        self._reader = OggPacketReader()
        self._opus = OpusPacketDecoder()

    def decode(self, data: bytes) -> np.ndarray:
        packets, skipped = self._reader.feed(data)
        problems = [f"{skipped} bytes that are not valid Ogg pages"] if skipped else []
        problems += self._opus.feed(packets)
        if problems:
            raise AudioDecodeError("; ".join(problems))
        return self._opus.take()

    def flush(self) -> np.ndarray:
        return self._opus.flush()

    def close(self) -> None:
        self._opus.take()
