"""WebM/Opus from a browser MediaRecorder, fed in whatever chunks the browser produced.

``voice.audio.webm`` reads the Opus packets out of the live stream as its bytes arrive, and
``voice.audio.opus`` decodes each at once, so a chunk's audio comes back from the call that fed
it, on the caller's thread, with nothing to wait for.
"""

import numpy as np

from voice.audio.base import AudioDecodeError
from voice.audio.opus import OpusPacketDecoder
from voice.audio.webm import EBML_MAGIC, WebmError, WebmOpusReader


class WebmOpusDecoder:
    """WebM/Opus -> PCM24k.

    A stream that does not start with an EBML header, or whose start is not WebM/Opus, raises
    AudioDecodeError, and so does every later chunk, until a chunk starts a new recording (begins
    with the EBML header). A new recording (the widget restarted MediaRecorder) replaces the
    current one, whether its header starts a chunk or comes inside the stream in any chunking.
    Damage later in the stream, and Opus packets that cannot be decoded, raise AudioDecodeError
    too, but the stream reads on (from the next Cluster after damage). Audio decoded in a chunk
    that then raised comes out of the next call.
    """

    def __init__(self) -> None:
        self._reader: WebmOpusReader | None = WebmOpusReader()
        self._opus = OpusPacketDecoder()
        self._failure: str | None = None

    def decode(self, data: bytes) -> np.ndarray:
        if data.startswith(EBML_MAGIC):  # a new recording, even after one cut short
            self._reader, self._failure = WebmOpusReader(), None
        if self._reader is None:
            raise AudioDecodeError(self._failure or "the WebM stream has ended")
        try:
            packets, damaged = self._reader.feed(data)
        except WebmError as error:
            self._reader, self._failure = None, f"invalid WebM/Opus stream ({error})"
            raise AudioDecodeError(self._failure) from error
        problems = [f"{damaged} damaged WebM bytes skipped"] if damaged else []
        problems += self._opus.feed(packets)
        if problems:
            raise AudioDecodeError("; ".join(problems))
        return self._opus.take()

    def flush(self) -> np.ndarray:
        pcm = self._opus.flush()
        self.close()
        return pcm

    def close(self) -> None:
        self._reader = None
        self._opus.take()
