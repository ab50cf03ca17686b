"""The soak: the calls kept streaming for minutes, the server's private memory sampled meanwhile.

Only samples taken while every call was streaming are compared, so connecting and hanging up do
not count as growth. Growth is the last sample less the first, and the slope of a least-squares
line through all of them.
"""

from dataclasses import dataclass

import numpy as np

from bench.load import LoadResult, UssSample

SAMPLE_SECONDS = 30.0


@dataclass(frozen=True)
class SoakFigures:
    minutes: float
    samples: list[UssSample]  # taken while every completed call was streaming
    growth: int  # bytes, last sample less the first
    slope: float  # bytes per minute, least squares
    failures: int


def soak_figures(load: LoadResult, minutes: float) -> SoakFigures:
    failures = sum(caller.failure is not None for caller in load.callers)
    full = max((sample.live for sample in load.uss), default=0)
    samples = [sample for sample in load.uss if full and sample.live == full]
    if len(samples) < 2:
        return SoakFigures(minutes, samples, 0, 0.0, failures)
    minutes_at = np.array([sample.at / 60 for sample in samples])
    sizes = np.array([sample.uss for sample in samples], dtype=np.float64)
    slope = float(np.polyfit(minutes_at, sizes, 1)[0])
    return SoakFigures(minutes, samples, samples[-1].uss - samples[0].uss, slope, failures)
