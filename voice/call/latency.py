"""Latency samples of one call, summarized as percentiles for the call's metrics, and observed
in the process's Prometheus histogram of the same figure."""

from array import array

import numpy as np
from prometheus_client import Histogram

MAX_SAMPLES = 3000  # a minute of frames; a longer call keeps its first ones: bounded memory


class LatencyStats:
    def __init__(self, histogram: Histogram | None = None) -> None:
        self.samples = array("f")  # seconds, 4 bytes each
        self._histogram = histogram  # a labelled child, e.g. BRIDGE_LATENCY.labels("uplink")

    def add(self, seconds: float) -> None:
        if self._histogram is not None:
            self._histogram.observe(seconds)
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(seconds)

    def summary(self) -> dict:
        """`{"count", "p50_ms", "p99_ms"}`, or only the count when there is nothing to sum up."""
        if not self.samples:
            return {"count": 0}
        p50, p99 = np.percentile(np.frombuffer(self.samples, dtype=np.float32), [50, 99]) * 1000
        return {"count": len(self.samples), "p50_ms": round(p50, 2), "p99_ms": round(p99, 2)}
