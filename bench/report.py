"""The benchmark's report: the headline per format, then each format's figures, the budget of
ARCHITECTURE.md next to them, pass/over.

A figure over its budget is marked, never raised: the benchmark reports. A saturated load level
(`bench.saturation`) says so first, and none of its figures reads "pass": they read SATURATED.
"""

from collections import Counter
from statistics import median

import numpy as np

from bench.drain import DEADLINE_SECONDS
from bench.echo import EchoAccount, echo_account, percentile
from bench.figures import BRIDGE_ALONE, BenchFigures, FormatFigures, ProductLoad, Stepped
from bench.load import LoadResult
from bench.report_extras import soak_rows, vad_rows, word_error_rows
from bench.resources import MB
from bench.saturation import ENDED_SECONDS, LAG_SECONDS, Saturation, saturation
from bench.stepping import Step, sustained_calls
from bench.table import Table, verdict

LATENCY_P50_MS = 5.0
LATENCY_P99_MS = 20.0
CPU_RATIO = 1.5
MEMORY_PER_CALL_MB = 2.0
CONNECT_P50_MS = 10.0
SATURATED = 0.9  # of all CPUs busy

SERVER = "daphne"
CELERY = "celery worker"
FARM = "sidecar farm"
CALLERS = "callers (this process)"


def _ms(seconds: list[float], percentiles: tuple[int, ...] = (50, 99)) -> list[float]:
    return [float(v) * 1000 for v in np.percentile(seconds, percentiles)]


def _mb(size: float) -> str:
    return f"{size / MB:.1f} MB"


def _echo(load: LoadResult) -> EchoAccount:
    return echo_account(
        ((caller.bursts_sent, caller.echoes) for caller in load.callers),
        chunk_seconds=load.chunk_seconds,
    )


def level_saturation(product: ProductLoad) -> Saturation:
    return saturation(
        callers=product.load.callers,
        echo=_echo(product.load),
        uplink=product.bridge.get("uplink_latency"),
        frames_dropped=product.frames_dropped,
    )


def per_call_memory(product: ProductLoad) -> tuple[int, int, float] | None:
    """(calls live, samples, the server's median USS then) while the most calls were live."""
    full = max((sample.live for sample in product.load.uss), default=0)
    samples = [sample.uss for sample in product.load.uss if full and sample.live == full]
    return (full, len(samples), median(samples)) if samples else None


def served_cpu(stepped: Stepped | None) -> float | None:
    """daphne's CPU per call-minute at the highest level served, if one was."""
    served = [step for step in stepped.steps if not step.level.saturated] if stepped else []
    return served[-1].cpu_per_call_minute if served else None


def _headline(table: Table, figures: BenchFigures) -> None:
    steps = figures.options.steps
    table.heading("Headline, per caller format")
    levels = ", ".join(str(calls) for calls in steps)
    table.section(f"Sustained calls per core (1 daphne process), stepped through {levels} calls")
    for fmt in figures.formats:
        alone, whole = (
            str(sustained_calls(stepped.steps)) if stepped else "not stepped"
            for stepped in (fmt.bridge_steps, fmt.product_steps)
        )
        table.row(fmt.caller_format.title, f"bridge alone {alone}, whole product {whole}")
    table.section("daphne's CPU / bare codec work / libopus floor, per call-minute")
    table.note("bridge alone: at its highest level served; whole product: the main load")
    for fmt in figures.formats:
        codec = fmt.codec
        table.saturated = level_saturation(fmt.product).saturated
        floor = codec.codec_per_call_minute / codec.floor_per_call_minute
        alone_cpu = served_cpu(fmt.bridge_steps)
        whole_cpu = _product_cpu(fmt.product.load)
        ratios = [
            f"bridge alone {alone_cpu / codec.codec_per_call_minute:.2f}x" if alone_cpu else None,
            f"whole product {whole_cpu / codec.codec_per_call_minute:.2f}x" if whole_cpu else None,
        ]
        shown = ", ".join(ratio for ratio in ratios if ratio) or "no call streamed"
        worst = max((cpu for cpu in (alone_cpu, whole_cpu) if cpu), default=0.0)
        table.row(
            f"{fmt.caller_format.title}: daphne / bare codec",
            shown,
            f"<= {CPU_RATIO:g}x",
            verdict(worst / codec.codec_per_call_minute, CPU_RATIO) if worst else "",
        )
        table.row("  bare codec / libopus floor", f"{floor:.2f}x")
    table.section("Memory per call (whole product, the main load)")
    for fmt in figures.formats:
        table.saturated = level_saturation(fmt.product).saturated
        memory = per_call_memory(fmt.product)
        if memory is None:
            table.row(fmt.caller_format.title, "not sampled")
            continue
        per_call = (memory[2] - fmt.product.idle_uss) / memory[0] / MB
        table.row(
            fmt.caller_format.title,
            f"{per_call:.2f} MB",
            f"<= {MEMORY_PER_CALL_MB:g} MB",
            verdict(per_call, MEMORY_PER_CALL_MB),
        )
    table.saturated = False


def _product_cpu(load: LoadResult) -> float | None:
    server = load.cpu.get(SERVER)
    return server.own / load.call_minutes if server and load.call_minutes else None


def _level(table: Table, level: Saturation, calls: int) -> None:
    table.section(f"Load level: the whole product, {calls} calls at once")
    if not level.saturated:
        table.row("served in real time", "yes: no call failed, no lag, `ended` in time")
        return
    table.row("SATURATED", "figures below are not passes")
    for reason in level.reasons:
        table.note(reason)


def _calls(table: Table, product: ProductLoad, stale_calls_closed: int) -> None:
    callers = product.load.callers
    failures = Counter(caller.failure for caller in callers if caller.failure)
    ready = sum(caller.ready_after is not None for caller in callers)
    table.section(f"Calls ({len(callers)} at once, connects 50 ms apart)")
    table.row("ready (voice path live)", f"{ready} of {len(callers)}")
    table.row("completed (streamed, hung up, `ended`)", f"{len(callers) - failures.total()}")
    table.row("failed", str(failures.total()), "0", verdict(failures.total(), 0))
    for reason, count in failures.most_common():
        table.note(f"{count} x {reason}")
    for caller in [product.warmup, *product.probes]:
        if caller.failure:
            table.note(f"a warm-up or idle-connect call failed too: {caller.failure}")
    if stale_calls_closed:
        table.note(f"{stale_calls_closed} calls left active by an earlier run were closed")
    counts: Counter[str] = Counter()
    for caller in callers:
        counts.update(caller.counts)
    shown = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))
    table.note(f"messages received: {shown}")


def _bridge(table: Table, product: ProductLoad) -> None:
    table.section("Bridge-added latency (the server's per-call metrics, Call.metrics)")
    table.note("uplink counts from daphne's receipt of the frame (its WebSocket protocol stamps")
    table.note("each message): daphne's own per-connection queue and the call's backlog are in it")
    opened = sum(caller.call_id is not None for caller in product.load.callers)
    if product.metrics_stored < opened:
        table.note(
            f"only {product.metrics_stored} of {opened} calls were closed (metrics stored) when"
            " read; the others were still open on the server"
        )
    names = {
        "uplink_latency": "uplink (daphne's receipt -> Ogg page out to the sidecar)",
        "downlink_latency": "downlink (sidecar page in -> audio out to the caller)",
    }
    for direction, title in names.items():
        figure = product.bridge.get(direction)
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


def _end_to_end(table: Table, echo: EchoAccount, chunk_ms: int) -> None:
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
    table.note(f"and counts as infinitely late. Includes: pacing in {chunk_ms} ms chunks,")
    table.note("loopback TCP both ways to daphne and to the sidecar, daphne's queues, decode,")
    table.note("resample, Opus encode and decode, the emulator's Ogg/Opus decode and re-encode")
    table.note("(codec delay), event-loop queueing in every process, the client's receive; no")
    table.note("playback buffer. The first row also holds the emulator's 80 ms step (0-80 ms).")


def _connect(table: Table, product: ProductLoad) -> None:
    callers = product.load.callers
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
    probes = [c.session_after for c in product.probes if c.session_after is not None]
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


def _cpu(table: Table, fmt: FormatFigures, cpus: int) -> None:
    load, codec = fmt.product.load, fmt.codec
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
    table.row("daphne (web), the whole product", f"{own:.3f} CPU s")
    table.row("bare codec work (decode, VAD, encode; both ways)", f"{bare:.3f} CPU s")
    table.row(
        "daphne / bare codec",
        f"{own / bare:.2f}x",
        f"<= {CPU_RATIO:g}x",
        verdict(own / bare, CPU_RATIO),
    )
    table.row("  of the bare codec work, the VAD alone", f"{codec.vad_per_call_minute:.3f} CPU s")
    table.row(
        "libopus floor (encode, decode; no Python stage)",
        f"{codec.floor_per_call_minute:.3f} CPU s",
    )
    table.row("bare codec / libopus floor", f"{bare / codec.floor_per_call_minute:.2f}x")
    if fmt.caller_format.opus:
        table.note("the floor decodes the caller's Opus packets too")
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
    table.note(f"machine: {busy:.2f} of {cpus} CPUs busy over the window; not ours")
    table.note(f"(Postgres, Redis, other jobs on the machine): {others:.2f} CPUs")
    if busy >= SATURATED * cpus:
        table.note("the machine was saturated: every figure above was taken short of CPU")


def _memory(table: Table, product: ProductLoad) -> None:
    table.section("Memory (private: USS)")
    table.row("daphne, idle after a warm-up call", _mb(product.idle_uss))
    memory = per_call_memory(product)
    if memory is None:
        table.row("daphne with calls live", "not sampled")
        return
    full, samples, live_uss = memory
    per_call = (live_uss - product.idle_uss) / full
    table.row(f"daphne with {full} calls live (median of {samples} samples)", _mb(live_uss))
    table.row(
        "per call",
        f"{per_call / MB:.2f} MB",
        f"<= {MEMORY_PER_CALL_MB:g} MB",
        verdict(per_call / MB, MEMORY_PER_CALL_MB),
    )
    workers = product.load.uss[-1].children_uss
    if workers:
        sizes = ", ".join(_mb(size) for size in workers)
        table.row(f"daphne's child processes ({len(workers)})", f"{_mb(sum(workers))} ({sizes})")


def _stepped(table: Table, title: str, stepped: Stepped | None, bare: float) -> None:
    if stepped is None:
        table.row(title, "not stepped")
        return
    table.row(title, f"sustained: {sustained_calls(stepped.steps)} calls")
    if stepped.warmup.failure:
        table.note(f"its warm-up call failed: {stepped.warmup.failure}")
    for step in stepped.steps:
        _step(table, step, bare)
    if stepped.steps and not stepped.steps[-1].level.saturated:
        table.note("no level saturated: the sustained figure is at least this; step higher")


def _step(table: Table, step: Step, bare: float) -> None:
    cpu = step.cpu_per_call_minute
    table.row(
        f"  {step.calls} calls",
        f"daphne {cpu:.3f} CPU s/call-min, {cpu / bare:.2f}x bare codec",
        "",
        "SATURATED" if step.level.saturated else "served",
    )
    for reason in step.level.reasons:
        table.note(reason)


def _steps(table: Table, fmt: FormatFigures) -> None:
    table.section("Sustained calls per core (stepped load, backlog drained at each level)")
    bare = fmt.codec.codec_per_call_minute
    _stepped(table, f"bridge alone (NEXUS_SPEECH_TO_TEXT={BRIDGE_ALONE})", fmt.bridge_steps, bare)
    _stepped(table, "whole product (offline speech-to-text)", fmt.product_steps, bare)


def _format(table: Table, fmt: FormatFigures, figures: BenchFigures) -> None:
    frame_ms = figures.options.frame_ms
    chunk_ms = fmt.caller_format.chunk_ms(frame_ms)
    frames = f"{frame_ms} ms frames" + (f", {chunk_ms} ms chunks" if chunk_ms != frame_ms else "")
    table.heading(f"{fmt.caller_format.title} in ({frames}), pcm16 24 kHz out")
    level = level_saturation(fmt.product)
    table.saturated = level.saturated
    _level(table, level, len(fmt.product.load.callers))
    _calls(table, fmt.product, figures.stale_calls_closed)
    _bridge(table, fmt.product)
    _end_to_end(table, _echo(fmt.product.load), chunk_ms)
    _connect(table, fmt.product)
    _cpu(table, fmt, figures.cpus)
    _memory(table, fmt.product)
    table.saturated = False
    _steps(table, fmt)
    if fmt.product.soak is not None:
        soak_rows(table, fmt.product.soak)


def report_render(figures: BenchFigures) -> str:
    options = figures.options
    table = Table()
    _headline(table, figures)
    for fmt in figures.formats:
        _format(table, fmt, figures)
    table.heading("Whatever the format")
    vad_rows(table, figures.vad)
    word_error_rows(table, figures.word_errors)
    minutes, seconds = divmod(round(figures.wall), 60)
    bridge = (
        f"the bridge alone (NEXUS_SPEECH_TO_TEXT={BRIDGE_ALONE}), then " if options.steps else ""
    )
    header = (
        f"Nexus voice bridge benchmark: {options.calls} calls x {options.seconds:g} s per format,"
        f" {options.frame_ms} ms frames; 1 daphne process at a time (DJANGO_DEBUG=0): {bridge}the"
        " whole product, a fresh one per format; 1 Celery worker;"
        f" {options.most_calls} PersonaPlex emulators (echo 240 ms) in 1 process;"
        f" {figures.cpus} CPUs"
    )
    footer = f"\nWall time {minutes} min {seconds:02d} s. Logs: {figures.logs}"
    return header + "\n" + table.render() + "\n" + footer
