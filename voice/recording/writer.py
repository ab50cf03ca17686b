"""A recording's file on local disk: mixed PCM24k encoded to Opus in Ogg, on a thread of its own.

The event loop only hands blocks over (`write`); a single worker thread per recording encodes
them in order with PyAV (libopus, 20 ms frames, 24 kb/s) and FFmpeg's Ogg muxer, which writes
about a second of audio per page: the file grows as the call goes, nothing of the call is held
in memory, and pages cost ~1% of the file (the live call's one page per 20 ms would add ~50%).
A failure is kept (`failed`) and every later block is ignored: the caller never waits for it.
"""

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import numpy as np
from av.audio.stream import AudioStream
from av.container import OutputContainer

from voice.audio.base import PCM_RATE

logger = logging.getLogger(__name__)

BITRATE = 24_000  # bits per second: speech, both sides in one mono stream
# libopus's effort, 0..10: at 5 a call-minute costs ~20% less CPU than at 10 (the default) for
# a file 2% smaller; speech at this bit rate does not gain from more (`bench.recording`).
COMPLEXITY = "5"
CONTENT_TYPE = "audio/ogg"
_SILENCE = np.zeros(PCM_RATE, dtype=np.int16)  # one second, encoded as many times as needed


def opus_file_open(path: Path, *, bitrate: int) -> tuple[OutputContainer, AudioStream]:
    """An Ogg file at `path` with one Opus stream, mono, fed PCM24k."""
    container = av.open(str(path), "w", format="ogg")
    stream = container.add_stream("libopus", rate=PCM_RATE)
    stream.layout = "mono"
    stream.bit_rate = bitrate
    stream.codec_context.options = {
        "frame_duration": "20",
        "application": "voip",
        "compression_level": COMPLEXITY,
    }
    return container, stream


class OpusFileWriter:
    def __init__(self, path: Path, *, bitrate: int = BITRATE) -> None:
        self.path = path
        self.failed: BaseException | None = None
        self._bitrate = bitrate
        self._file: tuple[OutputContainer, AudioStream] | None = None
        self._samples = 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recording")

    def write(self, pcm: np.ndarray, silence: int = 0) -> None:
        """Append `pcm`, then `silence` samples of silence (encoded on the writer's thread)."""
        if self.failed is None:
            self._executor.submit(self._guarded, self._encode, pcm, silence)

    async def finish(self) -> None:
        """Encode what is left and close the file (raises what made the writer fail)."""
        try:
            await asyncio.wrap_future(self._executor.submit(self._guarded, self._finish))
        finally:
            self._executor.shutdown(wait=False)
        if self.failed is not None:
            raise self.failed

    def discard(self) -> None:
        """Stop writing and remove the file (after `finish`, or instead of it)."""
        self.failed = self.failed or RuntimeError("discarded")
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._close()
        self.path.unlink(missing_ok=True)

    def _guarded(self, step: Callable[..., None], *args: object) -> None:
        if self.failed is not None:
            return
        try:
            step(*args)
        except Exception as error:
            logger.exception("recording %s: writing failed", self.path.name)
            self.failed = error

    def _encode(self, pcm: np.ndarray, silence: int) -> None:
        self._feed(pcm)
        while silence > 0:
            self._feed(_SILENCE[: min(silence, PCM_RATE)])
            silence -= PCM_RATE

    def _finish(self) -> None:
        container, stream = self._opened()
        for packet in stream.encode(None):
            container.mux(packet)
        self._close()

    def _feed(self, pcm: np.ndarray) -> None:
        if not len(pcm):
            return
        container, stream = self._opened()
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = PCM_RATE
        frame.pts = self._samples
        self._samples += len(pcm)
        for packet in stream.encode(frame):
            container.mux(packet)

    def _opened(self) -> tuple[OutputContainer, AudioStream]:
        if self._file is None:
            self._file = opus_file_open(self.path, bitrate=self._bitrate)
        return self._file

    def _close(self) -> None:
        if self._file is not None:
            container, self._file = self._file[0], None
            try:
                container.close()
            except Exception as error:
                self.failed = self.failed or error
