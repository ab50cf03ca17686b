"""Opus packets -> PCM24k, each decoded as soon as it arrives: what Ogg/Opus and WebM/Opus
callers share once their containers are read.

FFmpeg's own Opus decoder is used, not libopus through FFmpeg: its output matches libopus's
(over 90 dB SNR) at three quarters of the CPU. Both always output 48 kHz, hence the streaming
resampler to 24 kHz.
"""

import av
import numpy as np

from voice.audio.base import PcmResampler, empty_pcm, join_pcm

OPUS_DECODER = "opus"  # FFmpeg's native decoder


class OpusPacketDecoder:
    """One caller's Opus packets as a container carries them: an OpusHead (RFC 7845) first, and
    again wherever a new stream starts; OpusTags are ignored. Any channel count or input rate.

    ``decode()`` raises ``av.FFmpegError`` or ValueError for a packet it cannot decode; the
    decoder stays usable.
    """

    def __init__(self) -> None:
        self._codec: av.AudioCodecContext | None = None
        self._resampler = PcmResampler()

    def decode(self, packet: bytes) -> np.ndarray:
        if packet.startswith(b"OpusHead"):
            self._codec = av.CodecContext.create(OPUS_DECODER, "r")
            self._codec.extradata = packet
            self._codec.open()
            return empty_pcm()
        if packet.startswith(b"OpusTags"):
            return empty_pcm()
        if self._codec is None:
            raise ValueError("audio before any OpusHead")
        frames = self._codec.decode(av.Packet(packet))
        return join_pcm([self._resampler.convert(frame) for frame in frames])

    def flush(self) -> np.ndarray:
        """End of input: the resampler's last samples."""
        self._codec = None
        return self._resampler.convert(None)
