"""A load phase: N simulated callers at once against the server, its CPU and memory watched.

Every caller sends the same recording in one format (`bench.formats`), made before the phase.

Callers connect `STAGGER_SECONDS` apart. The CPU window runs from the first caller starting to
stream until every caller is done (`ended`, or failed) and, when the processes' idle rate is
given, the server's backlog has drained (`bench.drain`): CPU of the server (and its
descendants), of the other processes the benchmark runs, and of the whole machine. The server's
private memory (USS) is sampled every `uss_every` seconds, with the number of calls streaming at
that moment.
"""

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp

from bench.caller import CallerResult, caller_run
from bench.drain import backlog_drained
from bench.formats import CallerFormat
from bench.resources import CpuSnapshot, CpuUsed, Watched, cpu_total, cpu_used, machine_busy
from bench.server import Server
from bench.tenant import BenchTenant

STAGGER_SECONDS = 0.05


@dataclass(frozen=True)
class UssSample:
    at: float  # seconds since the phase began
    live: int  # calls streaming
    uss: int  # the server's, bytes
    children_uss: list[int]  # the server's descendants', bytes


@dataclass
class LoadResult:
    callers: list[CallerResult]
    window: float  # seconds from the first stream start to the backlog drained
    cpu: dict[str, CpuUsed]  # over the window, by process name
    machine: float  # CPU seconds the whole machine was busy over the window
    uss: list[UssSample]
    chunk_seconds: float  # of audio in each message the callers sent
    tail: float = 0.0  # seconds from the last stream end to the window's end
    drained: bool | None = None  # None: not waited for; False: the deadline passed first

    @property
    def call_minutes(self) -> float:
        return sum(caller.streamed for caller in self.callers) / 60


@dataclass(frozen=True)
class _Snapshot:
    at: float
    machine: float
    cpu: dict[str, CpuSnapshot]


class _Monitor:
    """The callers' `StreamListener`: counts live streams, snapshots CPU at the window's start."""

    def __init__(self, watched: dict[str, Watched]) -> None:
        self.watched = watched
        self.live = 0
        self.first: _Snapshot | None = None
        self.stopped_at = 0.0

    def snapshot(self) -> _Snapshot:
        cpu = {name: w.cpu() for name, w in self.watched.items()}
        return _Snapshot(time.monotonic(), machine_busy(), cpu)

    def started(self) -> None:
        if self.first is None:
            self.first = self.snapshot()
        self.live += 1

    def stopped(self) -> None:
        self.live -= 1
        self.stopped_at = time.monotonic()


async def _sample_uss(
    monitor: _Monitor, server: Watched, every: float, out: list[UssSample]
) -> None:
    began = time.monotonic()
    while True:
        await asyncio.sleep(every)
        live = monitor.live
        out.append(UssSample(time.monotonic() - began, live, server.uss(), server.children_uss()))


async def load_run(
    server: Server,
    tenant: BenchTenant,
    *,
    caller_format: CallerFormat,
    frame_ms: int,
    calls: int,
    seconds: float,
    watched: dict[str, Watched],
    server_name: str,
    uss_every: float,
    idle: float | None = None,
) -> LoadResult:
    """Run `calls` callers streaming `seconds` each in `caller_format`, in frames of `frame_ms`;
    `watched[server_name]` is the server. With `idle`, the watched processes' CPU share with no
    call live, the CPU window stays open until their backlog drained."""
    url = server.call_url(urlencode({"key": tenant.key, **caller_format.query(frame_ms)}))
    chunks = caller_format.chunks(seconds, frame_ms) if seconds else []
    chunk_seconds = caller_format.chunk_ms(frame_ms) / 1000
    monitor = _Monitor(watched)
    samples: list[UssSample] = []
    sampler = asyncio.create_task(_sample_uss(monitor, watched[server_name], uss_every, samples))
    try:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            callers = await asyncio.gather(
                *(
                    caller_run(
                        index=index,
                        session=session,
                        url=url,
                        origin=tenant.origin,
                        chunks=chunks,
                        chunk_seconds=chunk_seconds,
                        delay=index * STAGGER_SECONDS,
                        listener=monitor,
                    )
                    for index in range(calls)
                )
            )
        drained = None if idle is None else await backlog_drained(lambda: cpu_total(watched), idle)
    finally:
        sampler.cancel()
        await asyncio.gather(sampler, return_exceptions=True)
    first, last = monitor.first, monitor.snapshot()
    if first is None:
        return LoadResult(list(callers), 0.0, {}, 0.0, samples, chunk_seconds)
    cpu = {name: cpu_used(first.cpu[name], last.cpu[name]) for name in watched}
    return LoadResult(
        list(callers),
        last.at - first.at,
        cpu,
        last.machine - first.machine,
        samples,
        chunk_seconds,
        tail=last.at - monitor.stopped_at,
        drained=drained,
    )
