"""What a benchmark run measured, per caller format and overall: the report's input."""

from dataclasses import dataclass

from bench.bridge_latency import DirectionLatency
from bench.caller import CallerResult
from bench.codec_baseline import CodecBaseline
from bench.formats import CallerFormat
from bench.load import LoadResult
from bench.options import BenchOptions
from bench.soak import SoakFigures
from bench.stepping import Step
from bench.vad import VadFigures
from bench.word_errors import WordErrorFigures

BRIDGE_ALONE = "none"  # NEXUS_SPEECH_TO_TEXT of the bridge alone
WHOLE_PRODUCT = "offline"  # and of the whole product


@dataclass(frozen=True)
class ProductLoad:
    """The whole product's main load in one format, on a warm server."""

    warmup: CallerResult
    probes: list[CallerResult]  # one at a time on the idle, warm server
    idle_uss: int  # the server's, after the warm-up call, no call live
    load: LoadResult
    bridge: dict[str, DirectionLatency | None]  # "uplink_latency" / "downlink_latency"
    metrics_stored: int  # calls closed, with their metrics, when the metrics were read
    frames_dropped: int  # caller frames the server dropped from its backlog, all calls
    soak: SoakFigures | None


@dataclass(frozen=True)
class Stepped:
    """The stepped load of one format on one server, up to its first saturated level."""

    warmup: CallerResult
    steps: list[Step]


@dataclass(frozen=True)
class FormatFigures:
    caller_format: CallerFormat
    codec: CodecBaseline
    product: ProductLoad
    product_steps: Stepped | None
    bridge_steps: Stepped | None  # the bridge alone: NEXUS_SPEECH_TO_TEXT=none


@dataclass(frozen=True)
class BenchFigures:
    options: BenchOptions
    cpus: int
    stale_calls_closed: int
    formats: list[FormatFigures]
    vad: VadFigures | str  # str: why it was skipped
    word_errors: WordErrorFigures | str  # str: why it was skipped
    wall: float  # seconds
    logs: str
