"""One simulated caller: connect, wait for `ready`, stream at real-time pace, listen, hang up.

It speaks `/ws/call/` as a browser would (docs/client-protocol.md): the chunks of its format at
real-time pace, one every `chunk_seconds`, with the `Origin` header of the bench key. Whatever
goes wrong (refused with a close code, no `ready`, the socket closed early, no `ended` after the
hang-up) is kept in its `CallerResult`, never raised, so the benchmark counts every failure.
"""

import asyncio
import json
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp
from aiohttp import WSMsgType

from bench.echo import PAIRING_WINDOW, EchoOnset, EchoOnsetDetector
from bench.tones import Chunks

CONNECT_SECONDS = 15.0
READY_SECONDS = 15.0
ECHO_TAIL_SECONDS = 0.5  # after the last chunk, and until the last burst's echo is due
ENDED_SECONDS = 20.0  # the server transcribes what is queued before it says `ended`


class StreamListener(Protocol):
    """Told when a caller starts and stops streaming (the load phase's CPU window)."""

    def started(self) -> None: ...

    def stopped(self) -> None: ...


@dataclass
class CallerResult:
    index: int
    call_id: str | None = None
    failure: str | None = None
    session_after: float | None = None  # seconds from connecting to the `session` message
    ready_after: float | None = None  # seconds from connecting to `ready`
    ended_after: float | None = None  # seconds from the hang-up to `ended`
    streamed: float = 0.0  # seconds of audio sent
    bursts_sent: list[float] = field(default_factory=list)  # loop time of each burst's onset
    echoes: list[EchoOnset] = field(default_factory=list)
    audio_messages: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # JSON messages by type

    def fail(self, reason: str) -> None:
        self.failure = self.failure or reason


async def caller_run(
    *,
    index: int,
    session: aiohttp.ClientSession,
    url: str,
    origin: str,
    chunks: Chunks,
    chunk_seconds: float,
    delay: float,
    listener: StreamListener,
) -> CallerResult:
    """One call, `delay` seconds from now, streaming `chunks`."""
    await asyncio.sleep(delay)
    result = CallerResult(index)
    loop = asyncio.get_running_loop()
    connected = loop.time()
    try:
        async with asyncio.timeout(CONNECT_SECONDS):
            ws = await session.ws_connect(url, headers={"Origin": origin}, heartbeat=None)
    except (aiohttp.ClientError, OSError, TimeoutError) as error:
        result.fail(f"connect failed: {type(error).__name__}")
        return result
    async with ws:
        try:
            async with asyncio.timeout(READY_SECONDS):
                await _until_ready(ws, result, connected)
        except TimeoutError:
            result.fail(f"no ready within {READY_SECONDS:g} s")
        if result.failure:
            return result
        listening = asyncio.create_task(_listen(ws, result))
        listener.started()
        try:
            await _stream(ws, chunks, chunk_seconds, result)
        finally:
            listener.stopped()
        await asyncio.sleep(echo_tail(result.bursts_sent, loop.time()))
        await _hang_up(ws, result, listening)
    return result


def echo_tail(bursts_sent: list[float], now: float) -> float:
    """Seconds to listen on after the last chunk: until the last burst's echo is due at the
    latest (the end of its pairing window), and at least `ECHO_TAIL_SECONDS`."""
    due = bursts_sent[-1] + PAIRING_WINDOW[1] - now if bursts_sent else 0.0
    return max(ECHO_TAIL_SECONDS, due)


async def _until_ready(
    ws: aiohttp.ClientWebSocketResponse, result: CallerResult, t0: float
) -> None:
    loop = asyncio.get_running_loop()
    while True:
        message = await ws.receive()
        if message.type != WSMsgType.TEXT:
            if message.type == WSMsgType.BINARY:
                continue  # agent audio cannot come before `ready`; ignore it if it does
            result.fail(f"closed before ready ({ws.close_code})")
            return
        data = json.loads(message.data)
        result.counts[data["type"]] = result.counts.get(data["type"], 0) + 1
        if data["type"] == "session":
            result.call_id, result.session_after = data["call_id"], loop.time() - t0
        elif data["type"] == "ready":
            result.ready_after = loop.time() - t0
            return


async def _stream(
    ws: aiohttp.ClientWebSocketResponse,
    chunks: Chunks,
    chunk_seconds: float,
    result: CallerResult,
) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    for index, (chunk, burst) in enumerate(chunks):
        wait = start + index * chunk_seconds - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        if ws.closed:
            result.fail(f"closed early while streaming ({ws.close_code})")
            break
        if burst:
            result.bursts_sent.append(loop.time())
        try:
            await ws.send_bytes(chunk)
        except (aiohttp.ClientError, ConnectionError):
            result.fail("closed early while streaming (send failed)")
            break
        result.streamed += chunk_seconds


async def _listen(ws: aiohttp.ClientWebSocketResponse, result: CallerResult) -> float | None:
    """Read until `ended` (returns its loop time) or the socket closes (returns None)."""
    loop = asyncio.get_running_loop()
    detector = EchoOnsetDetector()
    async for message in ws:
        if message.type == WSMsgType.BINARY:
            result.audio_messages += 1
            result.echoes += detector.feed(message.data, loop.time())
        elif message.type == WSMsgType.TEXT:
            kind = json.loads(message.data)["type"]
            result.counts[kind] = result.counts.get(kind, 0) + 1
            if kind == "ended":
                return loop.time()
    return None


async def _hang_up(
    ws: aiohttp.ClientWebSocketResponse, result: CallerResult, listening: asyncio.Task
) -> None:
    loop = asyncio.get_running_loop()
    if listening.done() or ws.closed:
        result.fail(f"closed early ({ws.close_code})")
    else:
        hung_up = loop.time()
        await ws.send_str(json.dumps({"type": "end"}))
        try:
            async with asyncio.timeout(ENDED_SECONDS):
                ended = await asyncio.shield(listening)
        except TimeoutError:
            result.fail(f"no ended within {ENDED_SECONDS:g} s of the hang-up")
        else:
            if ended is None:
                result.fail(f"closed without ended ({ws.close_code})")
            else:
                result.ended_after = ended - hung_up
    listening.cancel()
    await asyncio.gather(listening, return_exceptions=True)
