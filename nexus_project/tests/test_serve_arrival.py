"""The ASGI server stamps each binary WebSocket message with its arrival, for the uplink latency."""

import asyncio
import json
import os
import sys
import time

import aiohttp
import pytest

from nexus_project.tests.processes import free_port

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(120)]

START_SECONDS = 60.0

APP = """
import json, time

async def application(scope, receive, send):
    while (event := await receive())["type"] != "websocket.disconnect":
        if event["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        else:
            handled_at = time.perf_counter()
            event.pop("bytes", None)
            await send({"type": "websocket.send", "text": json.dumps([event, handled_at])})
"""


async def _connect(session: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            return await session.ws_connect(url)
        except aiohttp.ClientError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def test_a_binary_message_carries_when_daphne_received_it_and_text_does_not(tmp_path):
    (tmp_path / "echo_app.py").write_text(APP)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    command = [sys.executable, "-m", "nexus_project.serve", "-b", "127.0.0.1", "-p", str(port)]
    server = await asyncio.create_subprocess_exec(*command, "echo_app:application", env=env)
    try:
        async with aiohttp.ClientSession() as session:
            ws = await _connect(session, f"ws://127.0.0.1:{port}/")
            await ws.send_bytes(b"\x00\x01")
            binary, handled_at = json.loads((await ws.receive(timeout=30)).data)
            await ws.send_str("hello")
            text, _ = json.loads((await ws.receive(timeout=30)).data)
            await ws.close()
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)

    assert binary["type"] == "websocket.receive"
    assert isinstance(binary["received_at"], float)
    assert binary["received_at"] <= handled_at  # the same process's perf_counter, earlier
    assert text == {"type": "websocket.receive", "text": "hello"}
