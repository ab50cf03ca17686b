"""The benchmark from start to end: set up, measure in-process, start the servers, load, report.

The in-process measurements (bare codec work and libopus floor per format, VAD, speech-to-text
word errors) run before any server starts, so nothing else competes for the CPU while they are
timed. Then, per caller format, the load is stepped through `--steps` against daphne serving the
bridge alone (`NEXUS_SPEECH_TO_TEXT=none`); then a fresh daphne serves the whole product (offline
speech-to-text) for each format's main load of `--calls` and the same steps, so that no format's
memory per call is measured on a heap an earlier format's load had grown. Every child process is
stopped on the way out, whatever ends the run: the end, an error, Ctrl+C or SIGTERM.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from django.conf import settings

from bench.bridge_latency import DIRECTIONS, direction_latency, frames_dropped, stored_metrics
from bench.caller import CallerResult
from bench.codec_baseline import CodecBaseline, codec_baseline
from bench.drain import idle_rate
from bench.echo import echo_account
from bench.engines import engine_bench_main
from bench.figures import (
    BRIDGE_ALONE,
    WHOLE_PRODUCT,
    BenchFigures,
    FormatFigures,
    ProductLoad,
    Stepped,
)
from bench.formats import FORMATS, CallerFormat
from bench.load import LoadResult, load_run
from bench.options import BenchOptions, options_parse
from bench.processes import BenchError, ChildProcesses
from bench.report import CALLERS, CELERY, FARM, SERVER, report_render
from bench.resources import Watched, cpu_total
from bench.saturation import saturation
from bench.server import Server, celery_start, daphne_start
from bench.sidecar_farm import sidecar_farm_start
from bench.soak import SAMPLE_SECONDS, soak_figures
from bench.stepping import Step
from bench.tenant import BenchTenant, bench_tenant_prepare
from bench.vad import VadFigures, vad_figures
from bench.word_errors import WordErrorFigures, word_error_figures

WARMUP_SECONDS = 3.0  # one call first: codecs, pools and workers start before memory is taken
PROBES = 5  # then calls that connect and hang up, one at a time: connecting to an idle server
SETTLE_SECONDS = 2.0
USS_EVERY_SECONDS = 1.0

Load = Callable[..., Awaitable[LoadResult]]


def _say(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _loader(
    server: Server,
    tenant: BenchTenant,
    options: BenchOptions,
    watched: dict[str, Watched],
    caller_format: CallerFormat,
) -> Load:
    async def load(
        calls: int, seconds: float, uss_every: float = USS_EVERY_SECONDS, idle: float | None = None
    ) -> LoadResult:
        return await load_run(
            server,
            tenant,
            caller_format=caller_format,
            frame_ms=options.frame_ms,
            calls=calls,
            seconds=seconds,
            watched=watched,
            server_name=SERVER,
            uss_every=uss_every,
            idle=idle,
        )

    return load


async def _warm(load: Load, watched: dict[str, Watched]) -> tuple[CallerResult, float]:
    """A warm-up call, then the processes' idle CPU rate."""
    warmup = (await load(1, WARMUP_SECONDS)).callers[0]
    await asyncio.sleep(SETTLE_SECONDS)
    return warmup, await idle_rate(lambda: cpu_total(watched))


async def _stepped(
    load: Load, tenant: BenchTenant, options: BenchOptions, idle: float, what: str
) -> list[Step]:
    steps: list[Step] = []
    for calls in options.steps:
        _say(f"{what}: step of {calls} calls streaming {options.seconds:g} s")
        steps.append(await _step(calls, await load(calls, options.seconds, idle=idle), tenant))
        if steps[-1].level.saturated:
            break
    return steps


async def _step(calls: int, result: LoadResult, tenant: BenchTenant) -> Step:
    """One level of the stepped load, judged as the main load is."""
    call_ids = [caller.call_id for caller in result.callers if caller.call_id]
    metrics = await asyncio.to_thread(stored_metrics, tenant.schema, call_ids)
    echo = echo_account(
        ((caller.bursts_sent, caller.echoes) for caller in result.callers),
        chunk_seconds=result.chunk_seconds,
    )
    level = saturation(
        callers=result.callers,
        echo=echo,
        uplink=direction_latency(metrics, "uplink_latency"),
        frames_dropped=frames_dropped(metrics),
    )
    server = result.cpu.get(SERVER)
    cpu = server.own / result.call_minutes if server and result.call_minutes else 0.0
    return Step(calls, level, cpu)


async def _bridge_alone(
    server: Server, tenant: BenchTenant, options: BenchOptions, watched: dict[str, Watched]
) -> dict[str, Stepped]:
    stepped = {}
    for name in options.formats:
        caller_format = FORMATS[name]
        what = f"bridge alone, {caller_format.title}"
        load = _loader(server, tenant, options, watched, caller_format)
        _say(f"{what}: warm-up call")
        warmup, idle = await _warm(load, watched)
        stepped[name] = Stepped(warmup, await _stepped(load, tenant, options, idle, what))
    return stepped


async def _product_load(
    load: Load,
    tenant: BenchTenant,
    options: BenchOptions,
    watched: dict[str, Watched],
    *,
    soak: bool,
) -> tuple[ProductLoad, float]:
    """The main load of one format (and the soak, if `soak`); the idle CPU rate."""
    warmup, _ = await _warm(load, watched)
    probes = [(await load(1, 0.0)).callers[0] for _ in range(PROBES)]
    await asyncio.sleep(SETTLE_SECONDS)
    idle_uss = watched[SERVER].uss()
    idle = await idle_rate(lambda: cpu_total(watched))
    _say(f"{options.calls} calls streaming {options.seconds:g} s, then the backlog drained")
    main = await load(options.calls, options.seconds, idle=idle)
    call_ids = [caller.call_id for caller in main.callers if caller.call_id]
    metrics = await asyncio.to_thread(stored_metrics, tenant.schema, call_ids)
    soaked = None
    if soak and options.soak_minutes:
        _say(f"soak: {options.calls} calls streaming {options.soak_minutes:g} min")
        soaked = await load(options.calls, options.soak_minutes * 60, SAMPLE_SECONDS, idle)
    product = ProductLoad(
        warmup=warmup,
        probes=probes,
        idle_uss=idle_uss,
        load=main,
        bridge={direction: direction_latency(metrics, direction) for direction in DIRECTIONS},
        metrics_stored=len(metrics),
        frames_dropped=frames_dropped(metrics),
        soak=soak_figures(soaked, options.soak_minutes) if soaked else None,
    )
    return product, idle


async def _whole_product(
    server: Server,
    tenant: BenchTenant,
    options: BenchOptions,
    watched: dict[str, Watched],
    caller_format: CallerFormat,
    *,
    soak: bool,
) -> tuple[ProductLoad, Stepped | None]:
    what = f"whole product, {caller_format.title}"
    load = _loader(server, tenant, options, watched, caller_format)
    _say(f"{what}: warm-up call and connects one at a time")
    product, idle = await _product_load(load, tenant, options, watched, soak=soak)
    steps = await _stepped(load, tenant, options, idle, what) if options.steps else []
    return product, Stepped(product.warmup, steps) if steps else None


def _vad() -> VadFigures | str:
    try:
        return vad_figures()
    except (OSError, subprocess.CalledProcessError) as error:
        return f"no espeak-ng speech ({error}); install espeak-ng"


def _word_errors() -> WordErrorFigures | str:
    try:
        return word_error_figures()
    except (OSError, subprocess.CalledProcessError) as error:
        return f"no espeak-ng speech ({error}); install espeak-ng"


def _codec(options: BenchOptions) -> dict[str, CodecBaseline]:
    codec = {}
    for name in options.formats:
        caller_format = FORMATS[name]
        _say(
            f"bare codec work and libopus floor of {options.calls} calls x {options.seconds:g} s"
            f" of {caller_format.title}, in this process"
        )
        codec[name] = codec_baseline(
            caller_format=caller_format,
            frame_ms=options.frame_ms,
            calls=options.calls,
            seconds=options.seconds,
        )
    return codec


def main(argv: list[str]) -> int:
    options = options_parse(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    if options.only == "engines":
        return engine_bench_main(calls=options.calls)
    began = time.monotonic()
    processes = ChildProcesses(Path(settings.DATA_DIR) / "logs")
    try:
        _say("setting up: migrations, platform, tenant `bench` and its key")
        tenant = bench_tenant_prepare(calls=options.most_calls)
        codec = _codec(options)
        _say("VAD false triggers")
        vad = _vad()
        _say("offline speech-to-text word error rate")
        word_errors = _word_errors()
        _say(f"starting {options.most_calls} PersonaPlex emulators and a Celery worker")
        farm = sidecar_farm_start(processes, options.most_calls)
        others = {
            CELERY: Watched(celery_start(processes)),
            FARM: Watched(farm.pid),
            CALLERS: Watched(os.getpid(), descendants=False),
        }
        bridge: dict[str, Stepped] = {}
        if options.steps:
            _say(f"starting daphne, the bridge alone (NEXUS_SPEECH_TO_TEXT={BRIDGE_ALONE})")
            server = daphne_start(processes, sidecar_urls=farm.urls, speech_to_text=BRIDGE_ALONE)
            watched = {SERVER: Watched(server.pid), **others}
            bridge = asyncio.run(_bridge_alone(server, tenant, options, watched))
            processes.stop(server.name)
        product = {}
        for index, name in enumerate(options.formats):
            _say(f"starting daphne, the whole product (NEXUS_SPEECH_TO_TEXT={WHOLE_PRODUCT})")
            server = daphne_start(
                processes, sidecar_urls=farm.urls, speech_to_text=WHOLE_PRODUCT, label=name
            )
            watched = {SERVER: Watched(server.pid), **others}
            product[name] = asyncio.run(
                _whole_product(server, tenant, options, watched, FORMATS[name], soak=index == 0)
            )
            processes.stop(server.name)
    except (BenchError, subprocess.CalledProcessError) as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        processes.stop_all()
    figures = BenchFigures(
        options=options,
        cpus=len(os.sched_getaffinity(0)),
        stale_calls_closed=tenant.stale_calls_closed,
        formats=[
            FormatFigures(
                caller_format=FORMATS[name],
                codec=codec[name],
                product=product[name][0],
                product_steps=product[name][1],
                bridge_steps=bridge.get(name),
            )
            for name in options.formats
        ],
        vad=vad,
        word_errors=word_errors,
        wall=time.monotonic() - began,
        logs=str(processes.log_dir),
    )
    print(report_render(figures))
    return engine_bench_main(calls=options.calls, tenant=tenant)
