"""In-process transcoding (PyAV): caller formats <-> PCM24k <-> the sidecar's Ogg/Opus stream.

PCM24k (mono int16 at 24 000 Hz, a 1-D numpy array) is the format inside Nexus; speech
detection may take a caller's PCM16 as sent (`CallerAudio`). Every decoder and encoder holds
per-call codec state: create one per call and stream, never share.
"""

from voice.audio.base import PCM_RATE, AudioDecodeError, AudioEncoder, CallerDecoder
from voice.audio.formats import (
    CALLER_FORMATS,
    OUT_FORMATS,
    OggOpusStreamDecoder,
    OggOpusStreamEncoder,
    caller_decoder,
    caller_encoder,
)

__all__ = [
    "CALLER_FORMATS",
    "OUT_FORMATS",
    "PCM_RATE",
    "AudioDecodeError",
    "AudioEncoder",
    "CallerDecoder",
    "OggOpusStreamDecoder",
    "OggOpusStreamEncoder",
    "caller_decoder",
    "caller_encoder",
]
