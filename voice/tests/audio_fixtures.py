"""Audio streams made the way browsers make them, for tests and benchmarks."""

import io

import av
import numpy as np


class LiveOutput(io.RawIOBase):
    """A write-only, non-seekable sink: the muxer writes a live stream, as MediaRecorder does."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.data += data
        return len(data)


def mediarecorder_webm(pcm: np.ndarray, rate: int = 48_000) -> bytes:
    output = LiveOutput()
    with av.open(output, "w", format="webm", options={"live": "1"}) as container:
        stream = container.add_stream("libopus", rate=rate, layout="mono")
        for start in range(0, len(pcm), rate // 50):
            frame = av.AudioFrame.from_ndarray(pcm[None, start : start + rate // 50], layout="mono")
            frame.sample_rate, frame.pts = rate, start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return bytes(output.data)
