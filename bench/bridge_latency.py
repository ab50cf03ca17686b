"""The bridge's added latency as the server measures it: per-call summaries in `Call.metrics`.

Each call stores `{"count", "p50_ms", "p99_ms"}` for `uplink_latency` (caller audio in -> Ogg page
out to the sidecar) and `downlink_latency` (sidecar page in -> audio out to the caller) when it
ends. Across calls: p50 is the median of the per-call p50s; p99 the median and the worst of the
per-call p99s.
"""

import time
from dataclasses import dataclass
from statistics import median

from tenants_app.db import tenant_schema
from voice.models import Call, CallStatus

DIRECTIONS = ("uplink_latency", "downlink_latency")
STORED_SECONDS = 15.0  # calls whose socket dropped are closed by the server a little later


@dataclass(frozen=True)
class DirectionLatency:
    calls: int  # calls with samples
    samples: int
    p50_ms: float  # median of the per-call p50s
    p99_median_ms: float
    p99_worst_ms: float


def stored_metrics(schema: str, call_ids: list[str]) -> list[dict]:
    """The metrics of the given calls once they are all closed (or after `STORED_SECONDS`)."""
    deadline = time.monotonic() + STORED_SECONDS
    with tenant_schema(schema):
        calls = Call.objects.filter(pk__in=call_ids)
        while calls.filter(status=CallStatus.ACTIVE).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        return [call.metrics for call in calls.filter(status=CallStatus.ENDED)]


def direction_latency(metrics: list[dict], direction: str) -> DirectionLatency | None:
    """Aggregate one direction over the calls; None when no call has samples."""
    summaries = [m[direction] for m in metrics if m.get(direction, {}).get("count")]
    if not summaries:
        return None
    p99s = [s["p99_ms"] for s in summaries]
    return DirectionLatency(
        calls=len(summaries),
        samples=sum(s["count"] for s in summaries),
        p50_ms=median(s["p50_ms"] for s in summaries),
        p99_median_ms=median(p99s),
        p99_worst_ms=max(p99s),
    )


def frames_dropped(metrics: list[dict]) -> int:
    """Caller frames the server dropped from its backlog, over the calls."""
    return sum(m.get("caller_frames_dropped", 0) for m in metrics)
