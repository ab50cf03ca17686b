"""Audio streams made the way browsers make them, for tests and benchmarks."""

import av
import numpy as np

from bench.webm import LiveOutput


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
