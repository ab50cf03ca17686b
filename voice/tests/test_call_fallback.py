"""Text fallback and recovery, and the sidecar pool: the caller is never left in silence."""

import asyncio
import socket

import pytest
from django.test import override_settings

from voice.sidecar.emulator import EmulatorConfig, running_emulator
from voice.tests.calls import FAST_LOAD, sidecars
from voice.tests.conftest import JOES_ORIGIN, call, stored_call

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def talk(caller, text: str) -> str:
    """Type `text`; return the agent's answer."""
    await caller.send({"type": "text", "text": text})
    await caller.receive_until("transcript", role="caller", text=text)
    return (await caller.receive_until("transcript", role="agent", final=True))["text"]


async def test_unreachable_sidecar_falls_back_to_text_then_recovers(joes_key):
    port = free_port()
    settings = {"PERSONAPLEX_URLS": [f"ws://127.0.0.1:{port}"], "PERSONAPLEX_RETRY_INITIAL": 0.2}
    with override_settings(**settings):
        async with call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller:
            call_id = (await caller.receive())["call_id"]
            mode = await caller.receive_until("mode")
            answer = await talk(caller, "What are your opening hours?")
            async with running_emulator(FAST_LOAD, port=port):
                recovered = await caller.receive_until("mode", timeout=10)
                ready = await caller.receive_until("ready")

    assert mode == {"type": "mode", "mode": "text", "reason": "sidecar_unavailable"}
    assert "Tuesday to Saturday" in answer
    assert recovered == {"type": "mode", "mode": "voice", "reason": "recovered"}
    assert ready == {"type": "ready"}
    _, entries = await stored_call(joes_key.tenant, call_id)
    assert ("caller", "What are your opening hours?") in entries


async def test_sidecar_killed_mid_call_falls_back_and_keeps_the_transcript(joes_key):
    port = free_port()
    settings = {"PERSONAPLEX_URLS": [f"ws://127.0.0.1:{port}"], "PERSONAPLEX_RETRY_INITIAL": 5}
    with override_settings(**settings):
        async with call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller:
            call_id = (await caller.receive())["call_id"]
            async with running_emulator(FAST_LOAD, port=port):
                await caller.receive_until("ready", timeout=10)
                await caller.send({"type": "text", "text": "Before the crash"})
                await caller.receive_until("transcript", role="caller")
            mode = await caller.receive_until("mode")
            answer = await talk(caller, "How much is a beard trim?")

    assert mode == {"type": "mode", "mode": "text", "reason": "sidecar_unavailable"}
    assert "15 dollars" in answer
    row, entries = await stored_call(joes_key.tenant, call_id)
    assert ("caller", "Before the crash") in entries
    assert ("caller", "How much is a beard trim?") in entries
    assert row.mode == "text"


async def test_no_handshake_in_time_falls_back_to_text(joes_key):
    slow = EmulatorConfig(load_base_seconds=30, load_per_word_seconds=0)
    async with (
        sidecars(config=slow, PERSONAPLEX_HANDSHAKE_TIMEOUT=0.5),
        call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller,
    ):
        await caller.receive()
        mode = await caller.receive_until("mode", timeout=5)
        answer = await talk(caller, "Where are you?")

    assert mode == {"type": "mode", "mode": "text", "reason": "sidecar_unavailable"}
    assert "12 Elm Street" in answer


async def test_pool_of_two_serves_two_callers_and_tells_the_third(joes_key):
    async with sidecars(count=2):
        query = f"key={joes_key.key}"
        async with (
            call(query, origin=JOES_ORIGIN) as first,
            call(query, origin=JOES_ORIGIN) as second,
        ):
            await first.receive_until("ready")
            await second.receive_until("ready")
            async with call(query, origin=JOES_ORIGIN) as third:
                busy = await third.receive_until("mode")
                answer = await talk(third, "Hello")
                await first.send({"type": "end"})
                await first.receive_until("ended")
                recovered = await third.receive_until("mode", timeout=10)
                await third.receive_until("ready")

    assert busy == {"type": "mode", "mode": "text", "reason": "sidecar_busy"}
    assert "Joe's Barbershop" in answer
    assert recovered == {"type": "mode", "mode": "voice", "reason": "recovered"}


async def test_the_lease_is_released_when_the_call_ends(joes_key):
    async with sidecars(count=1):
        for _ in range(2):  # the second call gets the only sidecar again
            async with call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller:
                assert await caller.receive_until("ready") == {"type": "ready"}
            await asyncio.sleep(0.1)
