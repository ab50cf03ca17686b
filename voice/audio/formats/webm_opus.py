"""WebM/Opus from a browser MediaRecorder, fed in whatever chunks the browser produced.

A WebM stream has to be demuxed from its start, contiguously, by one demuxer. FFmpeg's demuxer
pulls its input, so it runs in its own thread over a blocking file-like object fed by
``decode()``. After handing over a chunk, ``decode()`` waits until the demuxer has consumed it
and is blocked for more (bounded by a timeout), so the audio of a chunk comes back from the call
that fed it. So ``decode()`` blocks its caller briefly (typically a fraction of a
millisecond per chunk; at most ``_WAIT_SECONDS``), and calls on one decoder must not overlap.
"""

import threading

import av
import numpy as np

from voice.audio.base import AudioDecodeError, PcmResampler, empty_pcm, join_pcm

EBML_MAGIC = b"\x1a\x45\xdf\xa3"  # every WebM stream starts with its EBML header
_WAIT_SECONDS = 2.0


class _ChunkReader:
    """A blocking ``read()`` over the bytes fed so far; EOF once closed."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.buffer = bytearray()
        self.starved = False  # the demuxer is blocked in read() with nothing left to read
        self.closed = False

    def feed(self, data: bytes) -> None:
        with self.condition:
            self.buffer += data
            self.condition.notify_all()

    def read(self, size: int) -> bytes:
        with self.condition:
            while not self.buffer and not self.closed:
                self.starved = True
                self.condition.notify_all()
                self.condition.wait()
            self.starved = False
            data = bytes(self.buffer[:size])
            del self.buffer[:size]
            return data

    def close(self) -> None:
        with self.condition:
            self.closed = True
            self.condition.notify_all()


class _Demuxer:
    """One recording: a thread that demuxes, decodes and resamples it into ``output``."""

    def __init__(self) -> None:
        self.reader = _ChunkReader()
        self.output: list[np.ndarray] = []
        self.error: Exception | None = None
        self.done = False
        self._thread = threading.Thread(target=self._run, name="webm-demuxer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        resampler = PcmResampler()
        try:
            with av.open(self.reader, mode="r", format="webm") as container:
                stream = container.streams.audio[0]
                for packet in container.demux(stream):
                    for frame in packet.decode():
                        self._emit(resampler.convert(frame))
            self._emit(resampler.convert(None))
        except Exception as error:  # a thread boundary: decode() reports whatever stopped it
            self.error = error
        finally:
            with self.reader.condition:
                self.done = True
                self.reader.condition.notify_all()

    def _emit(self, pcm: np.ndarray) -> None:
        with self.reader.condition:
            self.output.append(pcm)

    def feed(self, data: bytes) -> np.ndarray:
        """Hand over a chunk, wait until it is consumed, return the audio made so far."""
        reader = self.reader
        reader.feed(data)
        with reader.condition:
            reader.condition.wait_for(
                lambda: self.done or (reader.starved and not reader.buffer), _WAIT_SECONDS
            )
            pcm, self.output = join_pcm(self.output), []
        return pcm

    def finish(self, timeout: float) -> np.ndarray:
        """Signal EOF and wait for the thread; return the audio left."""
        self.reader.close()
        self._thread.join(timeout)
        with self.reader.condition:
            pcm, self.output = join_pcm(self.output), []
        return pcm


class WebmOpusDecoder:
    """WebM/Opus -> PCM24k.

    A stream that does not start with an EBML header, or that FFmpeg cannot demux, raises
    AudioDecodeError, and so does every later chunk, until a chunk starts a new recording
    (begins with the EBML header): then a fresh demuxer takes over. A chunk that starts a new
    recording always replaces the current demuxer, e.g. when the widget restarts MediaRecorder.
    """

    def __init__(self) -> None:
        self._demuxer: _Demuxer | None = None
        self._failure: str | None = None

    def decode(self, data: bytes) -> np.ndarray:
        earlier = empty_pcm()
        if data.startswith(EBML_MAGIC):
            earlier = self._stop(timeout=_WAIT_SECONDS)
            self._demuxer, self._failure = _Demuxer(), None
        demuxer = self._demuxer
        if demuxer is None:
            self._failure = self._failure or "the stream does not start with a WebM (EBML) header"
            raise AudioDecodeError(self._failure)
        pcm = demuxer.feed(data)
        if demuxer.error is not None:
            self._failure = f"invalid WebM/Opus stream ({demuxer.error})"
            self._stop(timeout=0)
            raise AudioDecodeError(self._failure)
        return join_pcm([earlier, pcm])

    def flush(self) -> np.ndarray:
        return self._stop(timeout=_WAIT_SECONDS)

    def close(self) -> None:
        self._stop(timeout=_WAIT_SECONDS)

    def _stop(self, timeout: float) -> np.ndarray:
        demuxer, self._demuxer = self._demuxer, None
        return demuxer.finish(timeout) if demuxer is not None else empty_pcm()
