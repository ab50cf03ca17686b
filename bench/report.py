"""The benchmark's one table: every figure, the budget of ARCHITECTURE.md next to it, pass/over.

A figure over its budget is marked, never raised: the benchmark reports. A saturated load level
(`bench.saturation`) says so first, and none of its figures reads "pass": they read SATURATED.
"""

from collections import Counter
from dataclasses import dataclass
from statistics import median

import numpy as np

from bench.bridge_latency import DirectionLatency
from bench.caller import CallerResult
from bench.codec_baseline import CodecBaseline
from bench.drain import DEADLINE_SECONDS
from bench.echo import EchoAccount, echo_account, percentile
from bench.load import LoadResult
from bench.options import BenchOptions
from bench.resources import MB
from bench.saturation import ENDED_SECONDS, LAG_SECONDS, Saturation, saturation
from bench.soak import SoakFigures
from bench.stepping import Step, sustained_calls
from bench.table import Table, verdict
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
CELERY = "celery worker"
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
    frames_dropped: int  # caller frames the server dropped from its backlog, all calls
    codec: CodecBaseline
    vad: VadFigures | str  # str: why it was skipped
    word_errors: WordErrorFigures | str  # str: why it was skipped
    soak: SoakFigures | None
    steps: list[Step]  # the stepped load, up to its first saturated level
    wall: float  # seconds
    logs: str


def _ms(seconds: list[float], percentiles: tuple[int, ...] = (50, 99)) -> list[float]:
    return [float(v) * 1000 for v in np.percentile(seconds, percentiles)]


def _mb(size: float) -> str:
    return f"{size / MB:.1f} MB"


def _calls(table: Table, figures: BenchFigures) -> None:
    callers = figures.load.callers
    failures = Counter(caller.failure for caller in callers if caller.failure)
    ready = sum(caller.ready_after is not None for caller in callers)
    table.section(f"Calls ({figures.options.calls} at once, connects 50 ms apart)")
    table.row("ready (voice path live)", f"{ready} of {len(callers)}")
    table.row("completed (streamed, hung up, `ended`)", f"{len(callers) - failures.total()}")
    table.row("failed", str(failures.total()), "0", verdict(failures.total(), 0))
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


def _bridge(table: Table, figures: BenchFigures) -> None:
    table.section("Bridge-added latency (the server's per-call metrics, Call.metrics)")
    table.note("uplink counts from the consumer's receipt: time in daphne's own per-connection")
    table.note("queue before it is not in it (the end-to-end echo below holds it)")
    opened = sum(caller.call_id is not None for caller in figures.load.callers)
    if figures.metrics_stored < opened:
        table.note(
            f"only {figures.metrics_stored} of {opened} calls were closed (metrics stored) when"
            " read; the others were still open on the server"
        )
    names = {
        "uplink_latency": "uplink (consumer's receipt -> Ogg page out to the sidecar)",
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
            verdict(figure.p50_ms, LATENCY_P50_MS),
        )
        table.row(
            "  p99 (median / worst of per-call p99s)",
            f"{figure.p99_median_ms:.2f} / {figure.p99_worst_ms:.2f} ms",
            f"<= {LATENCY_P99_MS:g} ms",
            f"{verdict(figure.p99_median_ms, LATENCY_P99_MS)} / "
            f"{verdict(figure.p99_worst_ms, LATENCY_P99_MS)}",
        )


def _ms_or_lost(seconds: float) -> str:
    return "lost" if seconds == float("inf") else f"{seconds * 1000:.1f}"


def _echo(figures: BenchFigures) -> EchoAccount:
    return echo_account((caller.bursts_sent, caller.echoes) for caller in figures.load.callers)


def _end_to_end(table: Table, echo: EchoAccount) -> None:
    table.section(
        f"End to end, caller side: {echo.sent} bursts sent, {echo.returned} echoed "
        f"({echo.share:.0%}), {echo.lost} lost"
    )
    if echo.broken:
        table.note(f"{echo.broken} gaps of 300 ms or more inside echoes: audio lost or silence")
    if not echo.sent:
        table.row("burst onset sent -> echo onset received", "no burst sent")
        return
    for label, values in (
        ("burst onset sent -> echo onset received, - 240 ms", echo.raw),
        ("  less the wait for the emulator's 80 ms step", echo.unframed),
    ):
        middle, high = (_ms_or_lost(percentile(values, share)) for share in (50, 99))
        table.row(label, f"p50 {middle}  p99 {high} ms")
    lag = percentile(echo.unframed, 99)
    table.row(
        "  lag behind real time (p99, every burst)",
        _ms_or_lost(lag) + (" ms" if lag != float("inf") else ""),
        f"<= {LAG_SECONDS * 1000:.0f} ms",
        verdict(lag, LAG_SECONDS),
    )
    table.note("over every burst sent: a burst whose echo did not come back within 2 s is lost")
    table.note("and counts as infinitely late. Includes: real-time pacing in 20 ms chunks,")
    table.note("loopback TCP both ways to daphne and to the sidecar, daphne's queues, decode,")
    table.note("resample, Opus encode and decode, the emulator's Ogg/Opus decode and re-encode")
    table.note("(codec delay), event-loop queueing in every process, the client's receive; no")
    table.note("playback buffer. The first row also holds the emulator's 80 ms step (0-80 ms).")


def _connect(table: Table, figures: BenchFigures) -> None:
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
            verdict(p50, CONNECT_P50_MS),
        )
        table.note("* the budget is for tenant resolution + persona load; this also holds the")
        table.note("  TCP and WebSocket handshakes and opening the call row: an upper bound")
    probes = [c.session_after for c in figures.probes if c.session_after is not None]
    if probes:
        table.row(
            f"  one call at a time, idle server: median of {len(probes)}",
            f"{median(probes) * 1000:.1f} ms",
            f"<= {CONNECT_P50_MS:g} ms p50*",
            verdict(median(probes) * 1000, CONNECT_P50_MS),
        )
    if readies:
        p50, p99 = _ms(readies)
        table.row(
            "connect -> `ready` (+ sidecar lease, 50 ms prompt load)",
            f"p50 {p50:.1f}  p99 {p99:.1f} ms",
        )
    if endings:
        p50, p99, worst = _ms(endings, (50, 99, 100))
        table.row(
            "hang-up -> `ended`",
            f"p50 {p50:.0f}  p99 {p99:.0f}  max {worst:.0f} ms",
            f"<= {ENDED_SECONDS * 1000:.0f} ms",
            verdict(worst, ENDED_SECONDS * 1000),
        )
    missing = sum(c.ready_after is not None and c.ended_after is None for c in callers)
    if missing:
        table.note(f"{missing} calls got no `ended` after their hang-up")


def _cpu(table: Table, figures: BenchFigures) -> None:
    load, codec = figures.load, figures.codec
    table.section(
        f"CPU per call-minute ({load.call_minutes:.1f} call-minutes; window {load.window:.1f} s:"
        f" first stream start to the backlog drained, {load.tail:.1f} s after the last stream)"
    )
    if load.drained is False:
        table.note(f"the server was still busy {DEADLINE_SECONDS:g} s after the calls: its backlog")
        table.note("was cut off at that deadline, so its CPU below is short")
    server = load.cpu.get(SERVER)
    if server is None or not load.call_minutes:
        table.row("daphne", "no call streamed")
        return
    minutes = load.call_minutes
    own = server.own / minutes
    bare = codec.codec_per_call_minute
    table.row("daphne (web)", f"{own:.3f} CPU s")
    table.row("bare codec work, this process", f"{bare:.3f} CPU s")
    ratio = own / bare
    table.row(
        "daphne / bare codec", f"{ratio:.2f}x", f"<= {CPU_RATIO:g}x", verdict(ratio, CPU_RATIO)
    )
    table.row(
        "  for reference: the calls' VAD alone, bare", f"{codec.vad_per_call_minute:.3f} CPU s"
    )
    children = len(load.uss[-1].children_uss) if load.uss else 0
    table.row(
        f"speech-to-text workers (daphne's {children} child processes)",
        f"{server.children / minutes:.3f} CPU s",
    )
    for name, used in load.cpu.items():
        if name != SERVER:
            table.row(name, f"{(used.own + used.children) / minutes:.3f} CPU s")
    table.row("machine, all processes (/proc/stat)", f"{load.machine / minutes:.3f} CPU s")
    ours = sum(used.own + used.children for used in load.cpu.values())
    others = max(0.0, load.machine - ours) / load.window  # 0 when tick rounding says less
    busy = load.machine / load.window
    table.note(f"machine: {busy:.2f} of {figures.cpus} CPUs busy over the window; not ours")
    table.note(f"(Postgres, Redis, other jobs on the machine): {others:.2f} CPUs")
    if busy >= SATURATED * figures.cpus:
        table.note("the machine was saturated: every figure above was taken short of CPU")


def _memory(table: Table, figures: BenchFigures) -> None:
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
        verdict(per_call / MB, MEMORY_PER_CALL_MB),
    )
    workers = samples[-1].children_uss
    if workers:
        sizes = ", ".join(_mb(size) for size in workers)
        table.row(f"daphne's child processes ({len(workers)})", f"{_mb(sum(workers))} ({sizes})")


def _vad(table: Table, figures: BenchFigures) -> None:
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


def _word_errors(table: Table, figures: BenchFigures) -> None:
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


def _soak(table: Table, soak: SoakFigures) -> None:
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
        verdict(slope, SOAK_SLOPE_MB_PER_MINUTE),
    )


def _steps(table: Table, steps: list[Step]) -> None:
    table.section("Sustained calls (stepped load, pcm16 16 kHz, backlog drained at each level)")
    for step in steps:
        state = "SATURATED" if step.level.saturated else "served"
        table.row(
            f"{step.calls} calls",
            f"daphne {step.cpu_per_call_minute:.3f} CPU s/call-min",
            "",
            state,
        )
        for reason in step.level.reasons:
            table.note(reason)
    sustained = sustained_calls(steps)
    table.row("sustained calls per core (1 daphne process)", str(sustained))
    if steps and not steps[-1].level.saturated:
        table.note("no level saturated: the sustained figure is at least this; step higher")


def level_saturation(figures: BenchFigures, echo: EchoAccount) -> Saturation:
    return saturation(
        callers=figures.load.callers,
        echo=echo,
        uplink=figures.bridge.get("uplink_latency"),
        frames_dropped=figures.frames_dropped,
    )


def _level(table: Table, level: Saturation) -> None:
    table.section("Load level")
    if not level.saturated:
        table.row("served in real time", "yes: no call failed, no lag, `ended` in time")
        return
    table.row("SATURATED", "figures below are not passes")
    for reason in level.reasons:
        table.note(reason)


def report_render(figures: BenchFigures) -> str:
    options = figures.options
    echo = _echo(figures)
    level = level_saturation(figures, echo)
    table = Table(saturated=level.saturated)
    _level(table, level)
    _calls(table, figures)
    _bridge(table, figures)
    _end_to_end(table, echo)
    _connect(table, figures)
    _cpu(table, figures)
    _memory(table, figures)
    _vad(table, figures)
    _word_errors(table, figures)
    if figures.soak is not None:
        _soak(table, figures.soak)
    if figures.steps:
        _steps(table, figures.steps)
    minutes, seconds = divmod(round(figures.wall), 60)
    header = (
        f"Nexus voice bridge benchmark: {options.calls} calls x {options.seconds:g} s of "
        f"pcm16 16 kHz in, pcm16 24 kHz out; 1 daphne process (DJANGO_DEBUG=0), 1 Celery worker; "
        f"{options.most_calls} PersonaPlex emulators (echo 240 ms) in 1 process; "
        f"{figures.cpus} CPUs"
    )
    footer = f"\nWall time {minutes} min {seconds:02d} s. Logs: {figures.logs}"
    return header + "\n" + table.render() + "\n" + footer
