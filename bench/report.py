"""The benchmark's one table: every figure, the budget of ARCHITECTURE.md next to it, pass/over.

A figure over its budget is marked, never raised: the benchmark reports.
"""

from collections import Counter
from dataclasses import dataclass
from statistics import median

import numpy as np

from bench.bridge_latency import DirectionLatency
from bench.caller import CallerResult
from bench.codec_baseline import CodecBaseline
from bench.echo import EchoLatency, echo_pairing
from bench.load import LoadResult
from bench.options import BenchOptions
from bench.resources import MB
from bench.soak import SoakFigures
from bench.vad import VadFigures
from bench.word_errors import WordErrorFigures

LATENCY_P50_MS = 5.0
LATENCY_P99_MS = 20.0
CPU_RATIO = 1.5
MEMORY_PER_CALL_MB = 2.0
CONNECT_P50_MS = 10.0
SOAK_SLOPE_MB_PER_MINUTE = 0.1  # "no growth": under this, fitted over the soak
SATURATED = 0.9  # of all CPUs busy

SERVER = "daphne"
FARM = "sidecar farm"
CALLERS = "callers (this process)"


@dataclass(frozen=True)
class BenchFigures:
    options: BenchOptions
    cpus: int
    stale_calls_closed: int
    warmup: CallerResult
    probes: list[CallerResult]  # one at a time on the idle, warm server
    idle_uss: int  # the server's, after the warm-up call, no call live
    load: LoadResult
    bridge: dict[str, DirectionLatency | None]  # "uplink_latency" / "downlink_latency"
    metrics_stored: int  # calls closed, with their metrics, when the metrics were read
    codec: CodecBaseline
    vad: VadFigures | str  # str: why it was skipped
    word_errors: WordErrorFigures | str  # str: why it was skipped
    soak: SoakFigures | None
    wall: float  # seconds
    logs: str


class _Table:
    def __init__(self) -> None:
        self._lines: list[tuple[str, ...] | str] = []

    def section(self, title: str) -> None:
        self._lines += ["", f"-- {title}"]

    def row(self, label: str, value: str, budget: str = "", verdict: str = "") -> None:
        self._lines.append((label, value, budget, verdict))

    def note(self, text: str) -> None:
        self._lines.append(f"     {text}")

    def render(self) -> str:
        rows = [line for line in self._lines if isinstance(line, tuple)]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        out = []
        for line in self._lines:
            if isinstance(line, str):
                out.append(line)
            else:
                cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
                out.append(("   " + "  ".join([*cells, line[3]])).rstrip())
        return "\n".join(out)


def _verdict(value: float, limit: float) -> str:
    return "pass" if value <= limit else "over"


def _ms(seconds: list[float], percentiles: tuple[int, ...] = (50, 99)) -> list[float]:
    return [float(v) * 1000 for v in np.percentile(seconds, percentiles)]


def _mb(size: float) -> str:
    return f"{size / MB:.1f} MB"


def _calls(table: _Table, figures: BenchFigures) -> None:
    callers = figures.load.callers
    failures = Counter(caller.failure for caller in callers if caller.failure)
    ready = sum(caller.ready_after is not None for caller in callers)
    table.section(f"Calls ({figures.options.calls} at once, connects 50 ms apart)")
    table.row("ready (voice path live)", f"{ready} of {len(callers)}")
    table.row("completed (streamed, hung up, `ended`)", f"{len(callers) - failures.total()}")
    table.row("failed", str(failures.total()), "0", _verdict(failures.total(), 0))
    for reason, count in failures.most_common():
        table.note(f"{count} x {reason}")
    for caller in [figures.warmup, *figures.probes]:
        if caller.failure:
            table.note(f"a warm-up or idle-connect call failed too: {caller.failure}")
    if figures.stale_calls_closed:
        table.note(f"{figures.stale_calls_closed} calls left active by an earlier run were closed")
    counts: Counter[str] = Counter()
    for caller in callers:
        counts.update(caller.counts)
    shown = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))
    table.note(f"messages received: {shown}")


def _bridge(table: _Table, figures: BenchFigures) -> None:
    table.section("Bridge-added latency (the server's per-call metrics, Call.metrics)")
    opened = sum(caller.call_id is not None for caller in figures.load.callers)
    if figures.metrics_stored < opened:
        table.note(
            f"only {figures.metrics_stored} of {opened} calls were closed (metrics stored) when"
            " read; the others were still open on the server"
        )
    names = {
        "uplink_latency": "uplink (caller audio in -> Ogg page out to the sidecar)",
        "downlink_latency": "downlink (sidecar page in -> audio out to the caller)",
    }
    for direction, title in names.items():
        figure = figures.bridge.get(direction)
        if figure is None:
            table.row(title, "no samples", f"<= {LATENCY_P50_MS:g} ms p50", "over")
            continue
        table.row(title, f"{figure.calls} calls, {figure.samples} samples")
        table.row(
            "  p50 (median of per-call p50s)",
            f"{figure.p50_ms:.2f} ms",
            f"<= {LATENCY_P50_MS:g} ms",
            _verdict(figure.p50_ms, LATENCY_P50_MS),
        )
        table.row(
            "  p99 (median / worst of per-call p99s)",
            f"{figure.p99_median_ms:.2f} / {figure.p99_worst_ms:.2f} ms",
            f"<= {LATENCY_P99_MS:g} ms",
            f"{_verdict(figure.p99_median_ms, LATENCY_P99_MS)} / "
            f"{_verdict(figure.p99_worst_ms, LATENCY_P99_MS)}",
        )


def _end_to_end(table: _Table, figures: BenchFigures) -> None:
    callers = figures.load.callers
    latencies: list[EchoLatency] = []
    broken = 0
    for caller in callers:
        pairing = echo_pairing(caller.bursts_sent, caller.echoes)
        latencies += pairing.latencies
        broken += pairing.broken
    sent = sum(len(caller.bursts_sent) for caller in callers)
    table.section(f"End to end, caller side ({sent} bursts sent, {len(latencies)} echoed)")
    if broken:
        table.note(f"{broken} gaps of 300 ms or more inside echoes: audio lost or silence put in")
    if not latencies:
        table.row("burst onset sent -> echo onset received", "no echo found")
        return
    raw = _ms([latency.raw for latency in latencies])
    unframed = _ms([latency.unframed for latency in latencies])
    table.row(
        "burst onset sent -> echo onset received, - 240 ms",
        f"p50 {raw[0]:.1f}  p99 {raw[1]:.1f} ms",
    )
    table.row(
        "  less the wait for the emulator's 80 ms step",
        f"p50 {unframed[0]:.1f}  p99 {unframed[1]:.1f} ms",
    )
    table.note("includes: real-time pacing in 20 ms chunks, loopback TCP both ways to daphne and")
    table.note("to the sidecar, daphne's decode/resample/Opus encode and Opus decode/PCM out, the")
    table.note("emulator's Ogg/Opus decode and re-encode (codec delay), event-loop queueing in")
    table.note("every process, the client's receive; no playback buffer. The first row also")
    table.note("holds the wait for the emulator's 80 ms step to fill (0-80 ms).")


def _connect(table: _Table, figures: BenchFigures) -> None:
    callers = figures.load.callers
    table.section("Connect and hang up (caller side)")
    sessions = [c.session_after for c in callers if c.session_after is not None]
    readies = [c.ready_after for c in callers if c.ready_after is not None]
    endings = [c.ended_after for c in callers if c.ended_after is not None]
    if sessions:
        p50, p99 = _ms(sessions)
        table.row(
            "connect -> `session` (tenant, persona, call row)",
            f"p50 {p50:.1f}  p99 {p99:.1f} ms",
            f"<= {CONNECT_P50_MS:g} ms p50*",
            _verdict(p50, CONNECT_P50_MS),
        )
        table.note("* the budget is for tenant resolution + persona load; this also holds the")
        table.note("  TCP and WebSocket handshakes and opening the call row: an upper bound")
    probes = [c.session_after for c in figures.probes if c.session_after is not None]
    if probes:
        table.row(
            f"  one call at a time, idle server: median of {len(probes)}",
            f"{median(probes) * 1000:.1f} ms",
            f"<= {CONNECT_P50_MS:g} ms p50*",
            _verdict(median(probes) * 1000, CONNECT_P50_MS),
        )
    if readies:
        p50, p99 = _ms(readies)
        table.row(
            "connect -> `ready` (+ sidecar lease, 50 ms prompt load)",
            f"p50 {p50:.1f}  p99 {p99:.1f} ms",
        )
    if endings:
        p50, worst = _ms(endings, (50, 100))
        table.row("hang-up -> `ended`", f"p50 {p50:.0f}  max {worst:.0f} ms")


def _cpu(table: _Table, figures: BenchFigures) -> None:
    load, codec = figures.load, figures.codec
    table.section(
        f"CPU (streaming window {load.window:.1f} s, {load.call_minutes:.1f} call-minutes)"
    )
    server = load.cpu.get(SERVER)
    if server is None or not load.call_minutes:
        table.row("daphne", "no call streamed")
        return
    own = server.own / load.call_minutes
    bare = codec.codec_per_call_minute
    table.row("daphne", f"{own:.3f} CPU s per call-minute")
    table.row("bare codec work, this process", f"{bare:.3f} CPU s per call-minute")
    ratio = own / bare
    table.row(
        "daphne / bare codec", f"{ratio:.2f}x", f"<= {CPU_RATIO:g}x", _verdict(ratio, CPU_RATIO)
    )
    table.row(
        "  for reference: the calls' VAD alone, bare",
        f"{codec.vad_per_call_minute:.3f} CPU s per call-minute",
    )
    children = len(load.uss[-1].children_uss) if load.uss else 0
    table.row(
        f"daphne's child processes ({children}: speech-to-text workers)",
        f"{server.children / load.call_minutes:.3f} CPU s per call-minute",
    )
    table.note(f"{server.children:.1f} CPU s in all, {server.children / load.window:.0%} of a CPU")
    ours = sum(used.own + used.children for used in load.cpu.values())
    shares = ", ".join(
        f"{name} {used.own / load.window:.2f}"
        + (f" (+{used.children / load.window:.2f} children)" if used.children else "")
        for name, used in load.cpu.items()
    )
    busy = load.machine / load.window
    table.row(f"machine: CPUs busy, of {figures.cpus}", f"{busy:.2f}")
    others = max(0.0, load.machine - ours) / load.window  # 0 when tick rounding says less
    table.note(f"{shares}; everything else (Postgres, Redis, other jobs) {others:.2f}")
    if busy >= SATURATED * figures.cpus:
        table.note("the machine was saturated: every figure above was taken short of CPU")


def _memory(table: _Table, figures: BenchFigures) -> None:
    load = figures.load
    table.section("Memory (private: USS)")
    full = max((sample.live for sample in load.uss), default=0)
    samples = [sample for sample in load.uss if full and sample.live == full]
    table.row("daphne, idle after a warm-up call", _mb(figures.idle_uss))
    if not samples:
        table.row("daphne with calls live", "not sampled")
        return
    live_uss = median(sample.uss for sample in samples)
    per_call = (live_uss - figures.idle_uss) / full
    table.row(f"daphne with {full} calls live (median of {len(samples)} samples)", _mb(live_uss))
    table.row(
        "per call",
        f"{per_call / MB:.2f} MB",
        f"<= {MEMORY_PER_CALL_MB:g} MB",
        _verdict(per_call / MB, MEMORY_PER_CALL_MB),
    )
    workers = samples[-1].children_uss
    if workers:
        sizes = ", ".join(_mb(size) for size in workers)
        table.row(f"daphne's child processes ({len(workers)})", f"{_mb(sum(workers))} ({sizes})")


def _vad(table: _Table, figures: BenchFigures) -> None:
    if isinstance(figures.vad, str):
        table.section("VAD false triggers (bench.vad_measure)")
        table.row("skipped", figures.vad)
        return
    table.section(f"VAD false triggers (bench.vad_measure, {figures.vad.seconds:g} s each)")
    detectors = figures.vad.detectors
    table.row("false starts per minute", " | ".join(f"{name:>8}" for name in detectors))
    floors = ", ".join(f"{name} {floor:g} dBFS" for name, floor in figures.vad.floors.items())
    table.note(f"VoiceActivityDetector with its energy floor: {floors} (as calls run it)")
    conditions = next(iter(detectors.values())).false_starts_per_minute
    for condition in conditions:
        rates = [f"{m.false_starts_per_minute[condition]:8.1f}" for m in detectors.values()]
        table.row(f"  {condition}", " | ".join(rates))
    for name, measurement in detectors.items():
        found = measurement.onset_delays_ms
        delay = f"{median(found):.0f} / {max(found)} ms" if found else "none detected"
        table.row(
            f"onset delay, {name}: median / max; missed",
            f"{delay}; {measurement.missed} of {figures.vad.clips} espeak clips",
        )


def _word_errors(table: _Table, figures: BenchFigures) -> None:
    table.section("Offline speech-to-text word error rate (bench.word_errors)")
    if isinstance(figures.word_errors, str):
        table.row("skipped", figures.word_errors)
        return
    errors = figures.word_errors
    table.note(
        f"{len(errors.decoded)} caller sentences ({errors.words} words) by espeak-ng; "
        f"{errors.in_phrases} of them word for word among the persona's phrases"
    )
    table.row("pocketsphinx, general English model", f"{errors.general:.1%}")
    table.row("pocketsphinx, Joe's persona model", f"{errors.persona:.1%}")
    first = errors.decoded[0]
    table.note(f'said "{first.said}"')
    table.note(f'general: "{first.general}"; persona: "{first.persona}"')


def _soak(table: _Table, soak: SoakFigures) -> None:
    table.section(f"Soak ({soak.minutes:g} min, daphne USS every 30 s while all calls streamed)")
    if soak.failures:
        table.note(f"{soak.failures} calls failed during the soak")
    if len(soak.samples) < 2:
        table.row("samples", "fewer than 2: no growth figure")
        return
    table.note(", ".join(f"{s.at / 60:.1f} min {s.uss / MB:.1f}" for s in soak.samples) + " MB")
    slope = soak.slope / MB
    table.row(
        f"growth: last - first / fitted slope ({soak.samples[0].live} calls)",
        f"{soak.growth / MB:+.1f} MB / {slope:+.2f} MB per minute",
        f"no growth (< {SOAK_SLOPE_MB_PER_MINUTE:g} MB/min)",
        _verdict(slope, SOAK_SLOPE_MB_PER_MINUTE),
    )


def report_render(figures: BenchFigures) -> str:
    options = figures.options
    table = _Table()
    _calls(table, figures)
    _bridge(table, figures)
    _end_to_end(table, figures)
    _connect(table, figures)
    _cpu(table, figures)
    _memory(table, figures)
    _vad(table, figures)
    _word_errors(table, figures)
    if figures.soak is not None:
        _soak(table, figures.soak)
    minutes, seconds = divmod(round(figures.wall), 60)
    header = (
        f"Nexus voice bridge benchmark: {options.calls} calls x {options.seconds:g} s of "
        f"pcm16 16 kHz in, pcm16 24 kHz out; 1 daphne process (DJANGO_DEBUG=0); "
        f"{options.calls} PersonaPlex emulators (echo 240 ms) in 1 process; "
        f"{figures.cpus} CPUs"
    )
    footer = f"\nWall time {minutes} min {seconds:02d} s. Logs: {figures.logs}"
    return header + "\n" + table.render() + "\n" + footer
