"""A full server is full, not slow: a lagging process, or one at its cap of calls, refuses new
calls (4429 `server_busy`, `/readyz` 503) until it can take them again, and a caller's control
messages overtake its audio."""

import asyncio
import contextlib
import json
import time

import numpy as np
import pytest
from channels.testing import HttpCommunicator

from nexus_project import loop_lag
from nexus_project.asgi import application
from voice.call.caller_audio import backlog_frames
from voice.call.engine_switch import EngineSwitch
from voice.tests.calls import sidecars
from voice.tests.conftest import JOES_ORIGIN, call, stored_call

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(90)]

FRAME = np.zeros(480, dtype=np.int16).tobytes()  # 20 ms of pcm16 at 24 kHz


async def readyz() -> tuple[int, dict]:
    communicator = HttpCommunicator(application, "GET", "/readyz", headers=[(b"host", b"x")])
    response = await communicator.get_response(timeout=30)
    return response["status"], json.loads(response["body"])


async def until_busy(busy: bool, timeout: float = 30) -> None:
    """Wait until this process's loop-lag watch says `busy`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop_lag.server_busy() != busy:
        assert loop.time() < deadline, f"the process never became {'busy' if busy else 'free'}"
        await asyncio.sleep(0.05)


async def until_ready(timeout: float = 30) -> None:
    """Wait until `/readyz` says this process takes calls."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (await readyz())[0] != 200:
        assert loop.time() < deadline, "the process never became ready"
        await asyncio.sleep(0.05)


async def lag_the_loop(stop: asyncio.Event, block_seconds: float) -> None:
    """Hold the event loop again and again, as a process with too much work does."""
    while not stop.is_set():
        time.sleep(block_seconds)  # noqa: ASYNC251 (blocking the loop is the point)
        await asyncio.sleep(0)


async def test_a_lagging_process_refuses_new_calls_until_it_keeps_up(joes_key, settings):
    settings.PERSONAPLEX_URLS = []
    settings.NEXUS_LOOP_LAG_LIMIT_MS = 100
    settings.NEXUS_LOOP_LAG_WINDOW_MS = 500
    query = f"key={joes_key.key}&mode=text"
    ready_before = await readyz()  # the first request starts the watch in this process

    stop = asyncio.Event()
    lagging = asyncio.create_task(lag_the_loop(stop, block_seconds=0.3))
    try:
        await until_busy(True)
        async with call(query, origin=JOES_ORIGIN) as refused:
            refusal = await refused.ws.receive_output(timeout=30)
        ready_busy = await readyz()
    finally:
        stop.set()
        await lagging
    await until_busy(False)
    ready_after = await readyz()
    async with call(query, origin=JOES_ORIGIN) as accepted:
        session = await accepted.receive()

    assert ready_before[0] == 200, ready_before
    assert refusal == {"type": "websocket.close", "code": 4429, "reason": "server_busy"}
    assert ready_busy[0] == 503
    event_loop = ready_busy[1]["checks"]["event_loop"]
    assert event_loop["ok"] is False and event_loop["error"] == "event loop lagging"
    assert event_loop["lag_ms"] > 100 and event_loop["limit_ms"] == 100
    assert ready_after[0] == 200 and ready_after[1]["checks"]["event_loop"]["ok"] is True
    assert session["type"] == "session"


async def test_end_after_a_burst_of_audio_drops_the_audio_not_yet_heard(joes_key, monkeypatch):
    heard: list[float] = []
    hear = EngineSwitch.caller_audio

    async def hear_in_real_time(self, pcm, *, received_at):
        """A server that hears 20 ms of audio in 20 ms: as fast as a microphone sends it."""
        await asyncio.sleep(0.02)
        heard.append(received_at)
        await hear(self, pcm, received_at=received_at)

    monkeypatch.setattr(EngineSwitch, "caller_audio", hear_in_real_time)
    sent = 5 * backlog_frames(20)
    async with sidecars(), call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller:
        call_id = (await caller.receive())["call_id"]
        await caller.receive_until("ready", timeout=30)
        for _ in range(sent):  # 10 s of audio at once: far faster than it can be heard
            await caller.send_audio(FRAME)
        await caller.send({"type": "ping"})
        await caller.send({"type": "end"})
        hung_up_at = time.perf_counter()
        pong = await caller.receive_until("pong", timeout=30)
        ended = await caller.receive_until("ended", timeout=30)
        took = time.perf_counter() - hung_up_at

    row, _ = await stored_call(joes_key.tenant, call_id)
    dropped = row.metrics["caller_frames_dropped"]
    print(
        f"\n`end` after {sent} frames: {len(heard)} heard, {dropped} dropped;"
        f" `ended` {took:.2f} s after the `end`"
    )
    assert pong == {"type": "pong"}
    assert ended == {"type": "ended", "reason": "caller_hangup"}
    assert row.end_reason == "caller_hangup"
    assert len(heard) + dropped == sent
    assert len(heard) < backlog_frames(20)  # not even the queue's worth was heard before the end


async def test_a_burst_of_callers_over_the_process_cap_is_refused_at_once(joes_key, settings):
    settings.PERSONAPLEX_URLS = []
    settings.NEXUS_MAX_CALLS_PER_PROCESS = 2
    query = f"key={joes_key.key}&mode=text"
    async with contextlib.AsyncExitStack() as stack:
        # When five callers connect at the same moment, faster than any lag could show
        callers = await asyncio.gather(
            *(stack.enter_async_context(call(query, origin=JOES_ORIGIN)) for _ in range(5))
        )
        first = [await caller.ws.receive_output(timeout=30) for caller in callers]
        ready_full = await readyz()

        # Then two calls start and three are refused as a busy server refuses them
        admitted = [
            c for c, out in zip(callers, first, strict=True) if out["type"] != "websocket.close"
        ]
        refusals = [out for out in first if out["type"] == "websocket.close"]
        assert len(admitted) == 2
        assert refusals == [{"type": "websocket.close", "code": 4429, "reason": "server_busy"}] * 3
        assert ready_full[0] == 503
        calls_check = ready_full[1]["checks"]["calls"]
        assert (calls_check["ok"], calls_check["calls"], calls_check["max"]) == (False, 2, 2)

        # And once one of them has hung up and ended, the process is ready for the next caller
        await admitted[0].send({"type": "end"})
        await admitted[0].receive_until("ended")
        await until_ready()
        async with call(query, origin=JOES_ORIGIN) as later:
            assert (await later.receive())["type"] == "session"
