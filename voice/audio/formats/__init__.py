"""The caller's wire formats (the ``format`` and ``out`` parameters of CLIENT_PROTOCOL.md)."""

from voice.audio.base import PCM_RATE, AudioEncoder, CallerDecoder
from voice.audio.formats.ogg_opus import OggOpusStreamDecoder, OggOpusStreamEncoder
from voice.audio.formats.pcm16 import Pcm16Decoder, Pcm16Encoder
from voice.audio.formats.webm_opus import WebmOpusDecoder

CALLER_FORMATS = ("pcm16", "webm-opus", "ogg-opus")
OUT_FORMATS = ("pcm16", "ogg-opus")


def caller_decoder(format: str, rate: int = PCM_RATE) -> CallerDecoder:
    """A new decoder for one call's audio; ``rate`` applies to ``pcm16`` only (the Opus
    formats carry their own). Raises ValueError for an unknown format or a rate out of range."""
    if format == "pcm16":
        return Pcm16Decoder(rate)
    if format == "webm-opus":
        return WebmOpusDecoder()
    if format == "ogg-opus":
        return OggOpusStreamDecoder()
    raise ValueError(
        f"unsupported caller audio format {format!r}; expected one of {CALLER_FORMATS}"
    )


def caller_encoder(format: str) -> AudioEncoder:
    """A new encoder of agent audio (PCM24k) for one call, in the caller's ``out`` format."""
    if format == "pcm16":
        return Pcm16Encoder()
    if format == "ogg-opus":
        return OggOpusStreamEncoder()
    raise ValueError(f"unsupported output format {format!r}, expected one of {OUT_FORMATS}")
