"""Whether a load level was served in real time, or saturated: the reasons, never a "pass".

A level is saturated when any call failed, when `ended` came over `ENDED_SECONDS` after a hang-up,
or when the server fell behind real time: an echo burst lost, or the p99 over every burst sent
(less the emulator's own 0-80 ms step) over `LAG_SECONDS`; the server's own uplink p99 over
`LAG_SECONDS` in any call; caller frames dropped from the server's backlog.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from bench.bridge_latency import DirectionLatency
from bench.caller import CallerResult
from bench.echo import EchoAccount, percentile

LAG_SECONDS = 0.200
ENDED_SECONDS = 1.0


@dataclass(frozen=True)
class Saturation:
    reasons: list[str]

    @property
    def saturated(self) -> bool:
        return bool(self.reasons)


def saturation(
    *,
    callers: Sequence[CallerResult],
    echo: EchoAccount,
    uplink: DirectionLatency | None,
    frames_dropped: int,
) -> Saturation:
    reasons = []
    failed = sum(caller.failure is not None for caller in callers)
    if failed:
        reasons.append(f"{failed} of {len(callers)} calls failed")
    slow = [c.ended_after for c in callers if (c.ended_after or 0.0) > ENDED_SECONDS]
    if slow:
        reasons.append(f"{len(slow)} calls: `ended` over {ENDED_SECONDS:g} s after `end`")
    if echo.lost:
        reasons.append(f"{echo.lost} of {echo.sent} echo bursts lost")
    elif echo.sent and percentile(echo.unframed, 99) > LAG_SECONDS:
        late = percentile(echo.unframed, 99) * 1000
        reasons.append(f"echo p99 {late:.0f} ms over {LAG_SECONDS * 1000:.0f} ms")
    if uplink is not None and uplink.p99_worst_ms > LAG_SECONDS * 1000:
        reasons.append(f"server uplink p99 {uplink.p99_worst_ms:.0f} ms in a call")
    if frames_dropped:
        reasons.append(f"{frames_dropped} caller frames dropped by the server")
    return Saturation(reasons)
