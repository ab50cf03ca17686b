"""The call endpoint behind a real daphne process: frame sizes at the edge of the protocol,
and `python -m nexus_project.serve` draining on SIGTERM: no new call, `/readyz` 503, the calls
in progress served until they end or the drain period is over, then told before it goes."""

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from django.conf import settings
from django.db import connection

from nexus_project import draining
from voice.tests.browser import LiveServer, active_calls_wait
from voice.tests.conftest import JOES_ORIGIN, call, stored_call

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
async def websocket(server: "LiveServer | ServeProcess", query: str):
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


class ServeProcess:
    """`python -m nexus_project.serve` in a process of its own, on the test database and Redis."""

    def __init__(self, log: Path, drain_seconds: float) -> None:
        self.log = log
        self.drain_seconds = drain_seconds
        self.port = 0
        self.process: asyncio.subprocess.Process | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def start(self) -> None:
        with socket.socket() as probe:  # a free port, let go for the server to take
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        database = connection.settings_dict  # the test database, rows committed by the tests
        socket_dir = database["HOST"] or database["OPTIONS"].get("host", "")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "nexus_project.settings_test",
            "DATABASE_URL": f"postgres://{database['USER']}@/{database['NAME']}?host={socket_dir}",
            "REDIS_URL": settings.REDIS_URL,
            "PERSONAPLEX_URLS": "",
            "NEXUS_DRAIN_SECONDS": str(self.drain_seconds),
        }
        command = [sys.executable, "-m", "nexus_project.serve", "-b", "127.0.0.1"]
        command += ["-p", str(self.port), "nexus_project.asgi:application"]
        with self.log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                *command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        async with aiohttp.ClientSession() as session:
            while True:
                try:
                    async with session.get(self.url("/healthz")) as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if self.process.returncode is not None or loop.time() > deadline:
                    raise RuntimeError(f"the server did not start:\n{self.log.read_text()}")
                await asyncio.sleep(0.1)

    def signal(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    async def exit_code(self, timeout: float) -> int | None:
        """The exit code once the process has stopped; None if it still runs after `timeout`."""
        assert self.process is not None
        try:
            return await asyncio.wait_for(asyncio.shield(self.process.wait()), timeout)
        except TimeoutError:
            return None

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


@contextlib.asynccontextmanager
async def serve_process(tmp_path: Path, *, drain_seconds: float):
    server = ServeProcess(tmp_path / "serve.log", drain_seconds)
    try:
        await server.start()
        yield server
    finally:
        await server.kill()


async def readyz(server: ServeProcess) -> tuple[int, dict, float]:
    """`/readyz`'s status and body, and how long it took (s)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with aiohttp.ClientSession() as session, session.get(server.url("/readyz")) as response:
        return response.status, await response.json(), loop.time() - started


async def refusal_code(server: ServeProcess, query: str) -> int | None:
    """The close code a new call gets (daphne sends no close reason)."""
    async with websocket(server, query) as ws:
        message = await ws.receive(timeout=10)
        assert message.type == aiohttp.WSMsgType.CLOSE, message
        return ws.close_code


async def say(ws, text: str) -> str:
    """Type `text`; the agent's final answer to it."""
    await ws.send_str(json.dumps({"type": "text", "text": text}))
    await until(ws, "transcript", role="caller", text=text)
    answer = await until(ws, "transcript", role="agent", final=True)
    assert answer["type"] == "transcript", answer
    return answer["text"]


async def test_sigterm_drains_the_calls_in_progress_then_ends_them(joes_key, tmp_path):
    query = f"key={joes_key.key}&mode=text"
    drain = 3.0
    loop = asyncio.get_running_loop()
    async with (
        serve_process(tmp_path, drain_seconds=drain) as server,
        websocket(server, query) as ws,
    ):
        ready_before = await readyz(server)
        call_id = (await until(ws, "session"))["call_id"]
        await say(ws, "Said before the shutdown")

        signalled_at = loop.time()
        server.signal()  # SIGTERM
        ready_after = await readyz(server)
        refused = await refusal_code(server, query)
        answer = await say(ws, "Said while the server drains")
        answered_after = loop.time() - signalled_at
        ended = await until(ws, "ended")
        ended_after = loop.time() - signalled_at
        closed = await until(ws, "<closed>")
        exit_code = await server.exit_code(timeout=20)
        exited_after = loop.time() - signalled_at

    print(
        f"\n/readyz {ready_before[2] * 1000:.0f} ms before SIGTERM, {ready_after[2] * 1000:.0f} ms"
        f" after (503); answered {answered_after:.2f} s, `ended` {ended_after:.2f} s, exit"
        f" {exited_after:.2f} s after SIGTERM (drain {drain:g} s)"
    )
    assert ready_before[0] == 200 and ready_before[1]["draining"] is False, ready_before
    assert ready_after[0] == 503 and ready_after[1]["draining"] is True
    assert refused == 4429
    assert answer and answered_after < drain
    assert ended == {"type": "ended", "reason": "server_shutdown"}
    assert drain - 0.2 <= ended_after < drain + 3
    assert closed["type"] == "<closed>"
    assert exit_code == 0
    row, entries = await stored_call(joes_key.tenant, call_id)
    assert row.status == "ended" and row.end_reason == "server_shutdown"
    assert ("caller", "Said before the shutdown") in entries
    assert ("caller", "Said while the server drains") in entries
    assert ("agent", answer) in entries


async def test_a_draining_server_refuses_a_new_call_saying_why(joes_key, monkeypatch):
    monkeypatch.setattr(draining, "_draining", True)

    async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
        closed = await caller.ws.receive_output(timeout=5)

    assert closed == {
        "type": "websocket.close",
        "code": 4429,
        "reason": "server stopping: call again",
    }


async def test_the_drain_is_over_as_soon_as_the_last_call_ends(joes_key, tmp_path):
    loop = asyncio.get_running_loop()
    async with serve_process(tmp_path, drain_seconds=60) as server:
        async with websocket(server, f"key={joes_key.key}&mode=text") as ws:
            call_id = (await until(ws, "session"))["call_id"]
            server.signal()  # SIGTERM
            await asyncio.sleep(0.5)
            hung_up_at = loop.time()
            await ws.send_str(json.dumps({"type": "end"}))
            ended = await until(ws, "ended")
        exit_code = await server.exit_code(timeout=20)
        exited_after = loop.time() - hung_up_at

    print(f"\nexit {exited_after:.2f} s after the last call hung up (drain 60 s)")
    assert ended == {"type": "ended", "reason": "caller_hangup"}
    assert exit_code == 0 and exited_after < 5
    row, _ = await stored_call(joes_key.tenant, call_id)
    assert row.end_reason == "caller_hangup"


async def test_a_second_signal_stops_the_server_at_once(joes_key, tmp_path):
    loop = asyncio.get_running_loop()
    async with (
        serve_process(tmp_path, drain_seconds=60) as server,
        websocket(server, f"key={joes_key.key}&mode=text") as ws,
    ):
        call_id = (await until(ws, "session"))["call_id"]
        server.signal()
        await asyncio.sleep(0.5)
        assert await server.exit_code(timeout=0.5) is None  # draining: the call goes on
        second_at = loop.time()
        server.signal()
        exit_code = await server.exit_code(timeout=20)
        exited_after = loop.time() - second_at

    print(f"\nexit {exited_after:.2f} s after the second signal (drain 60 s)")
    assert exit_code is not None and exited_after < 5
    row, _ = await stored_call(joes_key.tenant, call_id)  # daphne cancels it: closed all the same
    assert row.status == "ended" and row.end_reason == "server_shutdown"
