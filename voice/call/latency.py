"""Latency samples of one call's bridge, summarized as percentiles for the call's metrics."""

from array import array

import numpy as np

MAX_SAMPLES = 3000  # a minute of frames; a longer call keeps its first ones: bounded memory


class LatencyStats:
    def __init__(self) -> None:
        self.samples = array("f")  # seconds, 4 bytes each

    def add(self, seconds: float) -> None:
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(seconds)

    def summary(self) -> dict:
        """`{"count", "p50_ms", "p99_ms"}`, or only the count when there is nothing to sum up."""
        if not self.samples:
            return {"count": 0}
        p50, p99 = np.percentile(np.frombuffer(self.samples, dtype=np.float32), [50, 99]) * 1000
        return {"count": len(self.samples), "p50_ms": round(p50, 2), "p99_ms": round(p99, 2)}
