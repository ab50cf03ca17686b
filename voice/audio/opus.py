"""Opus packets -> PCM24k, each decoded as soon as it arrives: what Ogg/Opus and WebM/Opus
callers share once their containers are read.

FFmpeg's own Opus decoder is used, not libopus through FFmpeg: its output matches libopus's
(over 90 dB SNR) at under half the CPU of the decode (three quarters with the resampling). Both
always output 48 kHz, hence the streaming resampler to 24 kHz.
"""

from typing import Final

import av
import numpy as np

from voice.audio.base import PcmResampler, join_pcm

OPUS_DECODER: Final = "opus"  # FFmpeg's native decoder


class OpusPacketDecoder:
    """One caller's Opus packets as a container carries them: an OpusHead (RFC 7845) first, and
    again wherever a new stream starts; OpusTags are ignored. Any channel count or input rate.

    ``feed()`` decodes packets and keeps their audio until ``take()``, so that audio decoded
    before a bad packet is not lost when the caller reports the bad one.
    """

    def __init__(self) -> None:
        self._codec: av.AudioCodecContext | None = None
        self._resampler = PcmResampler()
        self._decoded: list[np.ndarray] = []

    def feed(self, packets: list[bytes]) -> list[str]:
        """Decode ``packets``; return a problem for each one that could not be decoded."""
        problems = []
        for packet in packets:
            try:
                self._decode(packet)
            except (av.FFmpegError, ValueError) as error:
                problems.append(f"undecodable Opus packet ({error})")
        return problems

    def take(self) -> np.ndarray:
        """The audio decoded since the last ``take()``."""
        pcm, self._decoded = join_pcm(self._decoded), []
        return pcm

    def flush(self) -> np.ndarray:
        """End of input: the audio not taken yet and the resampler's last samples."""
        self._codec = None
        self._decoded.append(self._resampler.convert(None))
        return self.take()

    def _decode(self, packet: bytes) -> None:
        if packet.startswith(b"OpusHead"):
            self._codec = av.CodecContext.create(OPUS_DECODER, "r")
            self._codec.extradata = packet
            self._codec.open()
        elif packet.startswith(b"OpusTags"):
            pass
        elif self._codec is None:
            raise ValueError("audio before any OpusHead")
        else:
            for frame in self._codec.decode(av.Packet(packet)):
                self._decoded.append(self._resampler.convert(frame))
