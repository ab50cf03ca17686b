"""The product's Prometheus metrics: what they are, and how a scrape reads them.

Defined once here, observed where things happen. With `PROMETHEUS_MULTIPROC_DIR` set (a folder
shared by the processes of one host, emptied at deploy), every web and worker process writes its
samples there and a scrape of any process adds them all up (the client's multiprocess mode);
without it, a scrape reads this process alone (development, tests). The tenant label holds the
tenant's schema name, or `all` when `NEXUS_METRICS_TENANT_LABEL` is off (many tenants: bounded
cardinality). docs/operations.md has the table of every metric.
"""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

disable_created_metrics()  # a `_created` series per counter would double every scrape

LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
TURN_BUCKETS = (0.1, 0.2, 0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
DURATION_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1200, 3600)
REQUEST_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LOOP_LAG_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)

CALLS_ACTIVE = Gauge(
    "nexus_calls_active", "Calls in progress.", ["tenant"], multiprocess_mode="livesum"
)
CALLS_STARTED = Counter("nexus_calls_started", "Calls started.", ["tenant", "mode"])
CALLS_ENDED = Counter("nexus_calls_ended", "Calls ended, by end reason.", ["tenant", "reason"])
CALL_DURATION = Histogram(
    "nexus_call_duration_seconds", "Length of ended calls.", ["tenant"], buckets=DURATION_BUCKETS
)
BRIDGE_LATENCY = Histogram(
    "nexus_bridge_latency_seconds",
    "Latency the bridge adds to a frame: uplink (caller frame in -> out to the voice engine) and "
    "downlink (engine audio in -> out to the caller).",
    ["direction"],
    buckets=LATENCY_BUCKETS,
)
TURN_LATENCY = Histogram(
    "nexus_turn_latency_seconds",
    "The caller's last word to the agent's first audio, by voice engine.",
    ["engine"],
    buckets=TURN_BUCKETS,
)
BARGE_INS = Counter("nexus_barge_ins", "Callers interrupting the agent.", ["tenant"])
MODE_SWITCHES = Counter(
    "nexus_mode_switches",
    "Calls moving between voice and text, or between voice engines.",
    ["mode", "engine", "reason"],
)
TOOL_INVOCATIONS = Counter(
    "nexus_tool_invocations", "Tool attempts, by outcome.", ["tenant", "tool", "status"]
)
TOOL_DURATION = Histogram(
    "nexus_tool_duration_seconds", "How long tool runs took.", ["tool"], buckets=REQUEST_BUCKETS
)
GEMINI_REQUESTS = Counter(
    "nexus_gemini_requests", "Requests to Gemini, by use and outcome.", ["use", "outcome"]
)
GEMINI_LATENCY = Histogram(
    "nexus_gemini_latency_seconds", "Gemini requests' time.", ["use"], buckets=REQUEST_BUCKETS
)
SPEECH_SEGMENTS_DROPPED = Counter(
    "nexus_speech_segments_dropped",
    "Caller speech segments dropped untranscribed: speech-to-text was behind.",
)
HANDSHAKES_REFUSED = Counter(
    "nexus_handshakes_refused", "Call handshakes refused, by close code.", ["code"]
)
EVENT_LOOP_LAG = Histogram(
    "nexus_event_loop_lag_seconds",
    "How late a web process's event loop ran a timer: what every ready callback waits.",
    buckets=LOOP_LAG_BUCKETS,
)
SERVER_BUSY = Gauge(
    "nexus_server_busy",
    "Web processes refusing new calls because their event loop lags (server_busy).",
    multiprocess_mode="livesum",
)


def tenant_label(schema_name: str) -> str:
    return schema_name if settings.NEXUS_METRICS_TENANT_LABEL else "all"


@contextmanager
def gemini_request(use: str) -> Iterator[None]:
    """Count and time one request to Gemini for `use` ("agent", "speech_to_text", ...)."""
    started = time.monotonic()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    finally:
        GEMINI_REQUESTS.labels(use, outcome).inc()
        GEMINI_LATENCY.labels(use).observe(time.monotonic() - started)


class SidecarPoolCollector(Collector):
    """The sidecar sessions in use and free, read from the leases in Redis at each scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from redis import Redis
        from redis.exceptions import RedisError

        from voice.sidecar.pool import SidecarEntry

        entries = [SidecarEntry.parse(entry) for entry in settings.PERSONAPLEX_URLS]
        if not entries:
            return
        family = GaugeMetricFamily(
            "nexus_sidecar_sessions",
            "PersonaPlex sidecar sessions, in use or free.",
            labels=["state"],
        )
        keys = [key for entry in entries for key in entry.lease_keys()]
        try:
            with Redis.from_url(settings.REDIS_URL, socket_timeout=2) as redis:
                in_use = sum(1 for value in redis.mget(keys) if value is not None)
        except RedisError:
            return
        family.add_metric(["in_use"], in_use)
        family.add_metric(["free"], len(keys) - in_use)
        yield family


def metrics_text() -> tuple[bytes, str]:
    """Every metric, in Prometheus' text format, and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    sidecars = CollectorRegistry()
    sidecars.register(SidecarPoolCollector())
    return generate_latest(registry) + generate_latest(sidecars), CONTENT_TYPE_LATEST
