"""The call endpoint behind a real daphne process: frame sizes at the edge of the protocol,
and a server stopped with SIGTERM telling its callers before it goes."""

import asyncio
import contextlib
import json

import aiohttp
import pytest

from voice.tests.browser import LiveServer, active_calls_wait
from voice.tests.conftest import JOES_ORIGIN, stored_call

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(90)]


@contextlib.asynccontextmanager
async def server_process():
    server = LiveServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def websocket(server: LiveServer, query: str):
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(
            f"ws://127.0.0.1:{server.port}/ws/call/?{query}",
            origin=JOES_ORIGIN,
            max_msg_size=0,
        ) as ws,
    ):
        yield ws


async def next_message(ws) -> dict:
    """The next JSON message, or `{"type": "<closed>", "code": ...}` once the socket closes."""
    while True:
        message = await ws.receive(timeout=20)
        if message.type == aiohttp.WSMsgType.TEXT:
            return json.loads(message.data)
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            return {"type": "<closed>", "code": ws.close_code}


async def until(ws, kind: str, **fields) -> dict:
    """Skip messages until one of type `kind` with the given field values (or the close)."""
    while True:
        message = await next_message(ws)
        wanted = message["type"] == kind and all(message.get(k) == v for k, v in fields.items())
        if wanted or message["type"] == "<closed>":
            return message


async def test_an_oversized_frame_is_an_error_and_the_call_goes_on(joes_key):
    async with server_process() as server, websocket(server, f"key={joes_key.key}") as ws:
        await until(ws, "session")
        await ws.send_bytes(bytes(100 * 1024))
        error = await until(ws, "error")
        await ws.send_str(json.dumps({"type": "ping"}))
        pong = await until(ws, "pong")

    assert error["code"] == "message_too_large"
    assert pong == {"type": "pong"}


async def test_a_frame_over_the_servers_hard_limit_drops_the_connection(joes_key):
    async with server_process() as server, websocket(server, f"key={joes_key.key}") as ws:
        call_id = (await until(ws, "session"))["call_id"]
        await ws.send_str(json.dumps({"type": "text", "text": "Said before the big frame"}))
        await until(ws, "transcript", role="caller")
        await ws.send_bytes(bytes(2 * 1024 * 1024))
        closed = await until(ws, "<closed>")
        await active_calls_wait()

    assert closed == {"type": "<closed>", "code": 1006}  # dropped, as documented
    row, entries = await stored_call(joes_key.tenant, call_id)
    assert row.status == "ended" and row.end_reason == "caller_disconnected"
    assert ("caller", "Said before the big frame") in entries


async def test_sigterm_tells_every_caller_the_call_ended_before_the_server_stops(joes_key):
    async with server_process() as server, websocket(server, f"key={joes_key.key}") as ws:
        call_id = (await until(ws, "session"))["call_id"]
        await ws.send_str(json.dumps({"type": "text", "text": "Said before the shutdown"}))
        await until(ws, "transcript", role="caller")
        loop = asyncio.get_running_loop()
        signalled_at = loop.time()
        server.process.terminate()  # SIGTERM
        ended = await until(ws, "ended")
        ended_after = loop.time() - signalled_at
        closed = await until(ws, "<closed>")
        await asyncio.to_thread(server.process.join, 30)  # it stops by itself
        exit_code = server.process.exitcode

    print(f"\n`ended` {ended_after * 1000:.0f} ms after SIGTERM")
    assert ended == {"type": "ended", "reason": "server_shutdown"}
    assert closed["type"] == "<closed>"
    assert exit_code == 0
    row, entries = await stored_call(joes_key.tenant, call_id)
    assert row.status == "ended" and row.end_reason == "server_shutdown"
    assert ("caller", "Said before the shutdown") in entries
