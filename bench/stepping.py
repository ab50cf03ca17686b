"""Sustained calls: the load stepped up level by level until one saturates (`bench.saturation`).

The sustained figure is the largest level served in real time below the first saturated one; the
server is one daphne process, one core's worth of event loop, so it is also its calls per core.
"""

from dataclasses import dataclass

from bench.saturation import Saturation


@dataclass(frozen=True)
class Step:
    calls: int
    level: Saturation
    cpu_per_call_minute: float  # daphne's own, backlog included


def sustained_calls(steps: list[Step]) -> int:
    """The largest number of calls served in real time before the first saturated step."""
    served = 0
    for step in sorted(steps, key=lambda step: step.calls):
        if step.level.saturated:
            break
        served = step.calls
    return served
