"""SidecarLink against the emulator (and a recording server) on real ports."""

import asyncio
import dataclasses
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import numpy as np
import pytest
from aiohttp import web

from bench.processes import free_port
from voice.sidecar.emulator import SPOKEN_WORD, EmulatorConfig, running_emulator
from voice.sidecar.errors import SidecarClosed, SidecarHandshakeTimeout, SidecarUnavailable
from voice.sidecar.link import (
    TEXT_PROMPT_MAX_CHARS,
    AgentAudioPage,
    AgentTextPiece,
    SidecarEvent,
    SidecarLink,
    chat_url,
)
from voice.sidecar.protocol import HANDSHAKE
from voice.tests.certificates import write_certificate
from voice.tests.sidecar_audio import is_header_page, ogg_pages, silence, tone

FAST = EmulatorConfig(load_base_seconds=0.01, load_per_word_seconds=0.0)
REPO_ROOT = Path(__file__).resolve().parents[2]


async def open_link(url: str, **kwargs) -> SidecarLink:
    options = {"voice_id": "NATM1.pt", "text_prompt": "", "handshake_timeout": 5.0} | kwargs
    return await SidecarLink.open(url, **options)


async def take(link: SidecarLink, audio_pages: int) -> list[SidecarEvent]:
    """Events up to and including the `audio_pages`-th audio page."""
    events: list[SidecarEvent] = []
    async with asyncio.timeout(5):
        async for event in link.events():
            events.append(event)
            if sum(isinstance(e, AgentAudioPage) for e in events) == audio_pages:
                return events
    raise AssertionError(f"events ended early: {events}")


@asynccontextmanager
async def recording_server(received: list) -> AsyncIterator[str]:
    """A sidecar that records the query and every message, and hand-shakes after 0.3 s."""

    async def handle(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        received.append(dict(request.query))
        with suppress(TimeoutError):  # a message here would break the protocol
            received.append(await ws.receive(timeout=0.3))
        await ws.send_bytes(HANDSHAKE)
        async for message in ws:
            received.append(message.data)
        return ws

    app = web.Application()
    app.router.add_get("/api/chat", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"ws://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_sends_only_the_two_query_keys_and_nothing_before_the_handshake():
    received: list = []
    prompt = "You work for Acme & Co. Your name is Zoë. Information: 100% + 50 = ?"
    async with recording_server(received) as url:
        link = await open_link(url, voice_id="VARF4.pt", text_prompt=prompt)
        await link.send_audio(b"page")
        await link.close()

    assert received == [{"voice_prompt": "VARF4.pt", "text_prompt": prompt}, b"\x01page"]


async def test_opens_after_the_load_delay_and_streams_typed_events():
    config = EmulatorConfig(load_base_seconds=0.2, load_per_word_seconds=0.1)
    loop = asyncio.get_running_loop()
    async with running_emulator(config) as url:
        started = loop.time()
        link = await open_link(url, text_prompt="Your name is Ada.")  # 4 words: 0.6 s
        assert loop.time() - started >= 0.6

        for page in ogg_pages(np.concatenate((tone(6), silence(2)))):
            await link.send_audio(page)
        events = await take(link, 2 + 8)
        await link.close()

    pages = [event.ogg for event in events if isinstance(event, AgentAudioPage)]
    assert [is_header_page(page) for page in pages] == [True, True] + [False] * 8
    # Echo delay 3: the tone is heard from step 3 on; " echo" comes just before steps 3 and 7.
    text_steps = [
        sum(isinstance(e, AgentAudioPage) for e in events[:i]) - 2
        for i, event in enumerate(events)
        if event == AgentTextPiece(SPOKEN_WORD)
    ]
    assert text_steps == [3, 7]
    assert len(events) == len(pages) + 2  # nothing but pages and the two pieces
    with pytest.raises(dataclasses.FrozenInstanceError):
        events[0].ogg = b""  # type: ignore[misc]


async def test_events_raise_sidecar_closed_when_the_sidecar_drops_the_session():
    async with running_emulator(FAST) as url:
        link = await open_link(url)
        await take(link, 2)

        await link.send_audio(b"OggS" + bytes(100))  # a corrupt page: the sidecar hangs up

        with pytest.raises(SidecarClosed):
            await take(link, 100)
        assert link.closed
        with pytest.raises(SidecarClosed):
            await link.send_audio(b"more")


async def test_close_ends_a_running_iteration_quietly_and_is_idempotent():
    async with running_emulator(FAST) as url:
        link = await open_link(url)
        reader = asyncio.create_task(take(link, 100))
        await asyncio.sleep(0.1)

        await link.close()
        await link.close()

        with pytest.raises(AssertionError, match="events ended early"):
            await reader
        assert link.closed


async def test_an_unknown_voice_is_refused_before_connecting():
    connections = 0

    def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writer.close()

    server = await asyncio.start_server(count, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        with pytest.raises(ValueError, match="unknown PersonaPlex voice"):
            await open_link(f"ws://127.0.0.1:{port}", voice_id="NATF9.pt")
        await asyncio.sleep(0.05)

    assert connections == 0


def test_the_url_carries_a_prompt_up_to_the_budget_and_refuses_longer_ones():
    at_budget = "x" * TEXT_PROMPT_MAX_CHARS

    url = chat_url("wss://gpu-1:8998/", voice_id="NATF0.pt", text_prompt=at_budget)

    assert (url.scheme, url.path, dict(url.query)) == (
        "wss",
        "/api/chat",
        {"voice_prompt": "NATF0.pt", "text_prompt": at_budget},
    )
    with pytest.raises(ValueError, match="1001 characters; the budget is 1000"):
        chat_url("ws://h:1", voice_id="NATF0.pt", text_prompt=at_budget + "x")
    with pytest.raises(ValueError, match="ws:// or wss://"):
        chat_url("http://h:1", voice_id="NATF0.pt", text_prompt="")


async def test_nothing_listening_is_sidecar_unavailable():
    with pytest.raises(SidecarUnavailable, match="cannot connect"):
        await open_link(f"ws://127.0.0.1:{free_port()}")


async def test_a_slow_load_is_a_handshake_timeout():
    async with running_emulator(EmulatorConfig(load_base_seconds=30)) as url:
        with pytest.raises(SidecarHandshakeTimeout):
            await open_link(url, handshake_timeout=0.2)


async def test_a_busy_sidecar_is_a_handshake_timeout_until_its_call_ends():
    async with running_emulator(FAST) as url:
        first = await open_link(url)
        with pytest.raises(SidecarHandshakeTimeout):
            await open_link(url, handshake_timeout=0.3)

        await first.close()

        second = await open_link(url)
        await second.close()


async def test_tls_with_the_sidecars_ca_file_and_never_without_it(tmp_path):
    ca_file = write_certificate(tmp_path)
    async with running_emulator(FAST, ssl_dir=tmp_path) as url:
        assert url.startswith("wss://")
        with pytest.raises(SidecarUnavailable, match="certificate"):
            await open_link(url)

        link = await open_link(url, ca_file=ca_file)
        for page in ogg_pages(silence(3)):
            await link.send_audio(page)
        events = await take(link, 2 + 3)
        await link.close()

    assert len(events) == 5
    with pytest.raises(ValueError, match="wss"):
        await open_link("ws://127.0.0.1:1", ca_file=ca_file)


async def test_run_sidecar_serves_the_emulator_as_its_own_process():
    port = free_port()
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "nexus_project.settings_test"}
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "manage.py", "run_sidecar", "--port", str(port)),
        *("--load-base-seconds", "0.01"),
        cwd=REPO_ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
    )
    try:
        async with asyncio.timeout(15):
            while True:
                try:
                    link = await open_link(f"ws://127.0.0.1:{port}")
                    break
                except SidecarUnavailable:
                    await asyncio.sleep(0.1)
        for page in ogg_pages(silence(2)):
            await link.send_audio(page)
        assert len(await take(link, 4)) == 4
        await link.close()
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl+C
        async with asyncio.timeout(10):
            await process.wait()
