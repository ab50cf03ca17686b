"""The benchmark from start to end: set up, measure in-process, start the servers, load, report.

The in-process measurements (bare codec work, VAD, speech-to-text word errors) run before any
server starts, so nothing else competes for the CPU while they are timed. Every child process is
stopped on the way out, whatever ends the run: the end, an error, Ctrl+C or SIGTERM.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from bench.bridge_latency import DIRECTIONS, direction_latency, frames_dropped, stored_metrics
from bench.caller import CallerResult
from bench.codec_baseline import codec_baseline
from bench.drain import idle_rate
from bench.echo import echo_account
from bench.engines import engine_bench_main
from bench.load import LoadResult, load_run
from bench.options import BenchOptions, options_parse
from bench.processes import BenchError, ChildProcesses
from bench.report import CALLERS, CELERY, FARM, SERVER, BenchFigures, report_render
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


@dataclass(frozen=True)
class _Measured:
    warmup: CallerResult
    probes: list[CallerResult]
    idle_uss: int
    load: LoadResult
    soak: LoadResult | None
    steps: list[Step]


def _say(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


async def _measure(
    server: Server, tenant: BenchTenant, options: BenchOptions, watched: dict[str, Watched]
) -> _Measured:
    async def load(
        calls: int, seconds: float, uss_every: float, idle: float | None = None
    ) -> LoadResult:
        return await load_run(
            server,
            tenant,
            calls=calls,
            seconds=seconds,
            watched=watched,
            server_name=SERVER,
            uss_every=uss_every,
            idle=idle,
        )

    _say("warm-up call")
    warmup = (await load(1, WARMUP_SECONDS, USS_EVERY_SECONDS)).callers[0]
    probes = [(await load(1, 0.0, USS_EVERY_SECONDS)).callers[0] for _ in range(PROBES)]
    await asyncio.sleep(SETTLE_SECONDS)
    idle_uss = watched[SERVER].uss()
    idle = await idle_rate(lambda: cpu_total(watched))
    _say(f"{options.calls} calls streaming {options.seconds:g} s, then the backlog drained")
    main_load = await load(options.calls, options.seconds, USS_EVERY_SECONDS, idle)
    soak = None
    if options.soak_minutes:
        _say(f"soak: {options.calls} calls streaming {options.soak_minutes:g} min")
        soak = await load(options.calls, options.soak_minutes * 60, SAMPLE_SECONDS, idle)
    steps: list[Step] = []
    for calls in options.steps:
        _say(f"step: {calls} calls streaming {options.seconds:g} s")
        steps.append(
            await _step(calls, await load(calls, options.seconds, USS_EVERY_SECONDS, idle), tenant)
        )
        if steps[-1].level.saturated:
            break
    return _Measured(warmup, probes, idle_uss, main_load, soak, steps)


async def _step(calls: int, result: LoadResult, tenant: BenchTenant) -> Step:
    """One level of the stepped load, judged as the main load is."""
    call_ids = [caller.call_id for caller in result.callers if caller.call_id]
    metrics = await asyncio.to_thread(stored_metrics, tenant.schema, call_ids)
    echo = echo_account((caller.bursts_sent, caller.echoes) for caller in result.callers)
    level = saturation(
        callers=result.callers,
        echo=echo,
        uplink=direction_latency(metrics, "uplink_latency"),
        frames_dropped=frames_dropped(metrics),
    )
    server = result.cpu.get(SERVER)
    cpu = server.own / result.call_minutes if server and result.call_minutes else 0.0
    return Step(calls, level, cpu)


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
        _say(f"bare codec work of {options.calls} calls x {options.seconds:g} s, in this process")
        codec = codec_baseline(calls=options.calls, seconds=options.seconds)
        _say("VAD false triggers")
        vad = _vad()
        _say("offline speech-to-text word error rate")
        word_errors = _word_errors()
        _say(f"starting {options.most_calls} PersonaPlex emulators and daphne")
        farm = sidecar_farm_start(processes, options.most_calls)
        server = daphne_start(processes, sidecar_urls=farm.urls)
        _say("starting a Celery worker")
        watched = {
            SERVER: Watched(server.pid),
            CELERY: Watched(celery_start(processes)),
            FARM: Watched(farm.pid),
            CALLERS: Watched(os.getpid(), descendants=False),
        }
        measured = asyncio.run(_measure(server, tenant, options, watched))
        call_ids = [caller.call_id for caller in measured.load.callers if caller.call_id]
        metrics = stored_metrics(tenant.schema, call_ids)  # daphne up: it may still close calls
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
        warmup=measured.warmup,
        probes=measured.probes,
        idle_uss=measured.idle_uss,
        load=measured.load,
        bridge={direction: direction_latency(metrics, direction) for direction in DIRECTIONS},
        metrics_stored=len(metrics),
        frames_dropped=frames_dropped(metrics),
        codec=codec,
        vad=vad,
        word_errors=word_errors,
        soak=soak_figures(measured.soak, options.soak_minutes) if measured.soak else None,
        steps=measured.steps,
        wall=time.monotonic() - began,
        logs=str(processes.log_dir),
    )
    print(report_render(figures))
    return engine_bench_main(calls=options.calls, tenant=tenant)
