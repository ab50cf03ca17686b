"""Text fallback and recovery, and the sidecar pool: the caller is never left in silence.

Here the fallback is text (`NEXUS_VOICE_FALLBACK`); the cascade voice as the fallback is tested
in `test_engine_fallback`.
"""

import asyncio

import pytest
from django.conf import settings
from django.test import override_settings
from redis.asyncio import Redis

from bench.processes import free_port
from voice.sidecar.emulator import EmulatorConfig, running_emulator
from voice.sidecar.pool import LEASE_PREFIX
from voice.tests.calls import FAST_LOAD, sidecars
from voice.tests.conftest import JOES_ORIGIN, call, stored_call

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]
RECOVERED = {"type": "mode", "mode": "voice", "reason": "recovered", "engine": "nvidia_personaplex"}


@pytest.fixture(autouse=True)
def text_fallback(settings):
    settings.NEXUS_VOICE_FALLBACK = "text"


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
    assert recovered == RECOVERED
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
            killed_at = asyncio.get_running_loop().time()
            mode = await caller.receive_until("mode")
            print(f"\ntext {asyncio.get_running_loop().time() - killed_at:.3f} s after the kill")
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
    assert recovered == RECOVERED


async def test_the_lease_is_released_when_the_call_ends(joes_key):
    async with sidecars(count=1):
        for _ in range(2):  # the second call gets the only sidecar again
            async with call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller:
                assert await caller.receive_until("ready") == {"type": "ready"}
            await asyncio.sleep(0.1)


async def lease_holder(url: str) -> str | None:
    """The call holding the sidecar at `url`, as the pool records it in Redis."""
    async with Redis.from_url(settings.REDIS_URL) as redis:
        holder = await redis.get(f"{LEASE_PREFIX}{url}#0")
    return holder.decode() if holder else None


async def until(condition, timeout: float = 20) -> float:
    """Poll the async `condition` until it holds; the seconds it took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not await condition():
        assert loop.time() - start < timeout, "the condition did not hold in time"
        await asyncio.sleep(0.02)
    return loop.time() - start


async def test_a_hang_up_while_the_sidecar_loads_frees_it_for_the_next_caller(joes_key):
    slow = EmulatorConfig(load_base_seconds=3, load_per_word_seconds=0)
    query = f"key={joes_key.key}"
    async with sidecars(config=slow) as [url]:
        async with call(query, origin=JOES_ORIGIN) as first:
            call_id = (await first.receive())["call_id"]

            async def first_holds_the_lease() -> bool:
                return await lease_holder(url) == call_id

            await until(first_holds_the_lease)  # the sidecar is loading the prompts
            await first.send({"type": "end"})

            async def lease_free() -> bool:
                return await lease_holder(url) is None

            released_after = await until(lease_free)
            await first.receive_until("ended")
        await asyncio.sleep(1.0)  # the next caller, a second later
        async with call(query, origin=JOES_ORIGIN) as second:
            ready = await second.receive_until("ready", timeout=20)

    print(f"\nlease released {released_after * 1000:.0f} ms after a hang-up during prompt load")
    assert ready == {"type": "ready"}


async def test_a_caller_waiting_for_a_sidecar_moves_to_voice_as_one_frees_up(joes_key):
    query = f"key={joes_key.key}"
    loop = asyncio.get_running_loop()
    async with sidecars(count=1, PERSONAPLEX_RETRY_INITIAL=30, PERSONAPLEX_RETRY_MAX=30):
        async with call(query, origin=JOES_ORIGIN) as first:
            await first.receive_until("ready")
            async with call(query, origin=JOES_ORIGIN) as second:
                busy = await second.receive_until("mode")
                await first.send({"type": "end"})
                await first.receive_until("ended")
                freed_at = loop.time()
                recovered = await second.receive_until("mode", timeout=15)
                await second.receive_until("ready", timeout=15)
                moved_after = loop.time() - freed_at

    print(f"\ntext -> voice {moved_after * 1000:.0f} ms after the busy sidecar was freed")
    assert busy == {"type": "mode", "mode": "text", "reason": "sidecar_busy"}
    assert recovered == RECOVERED


async def test_a_sidecar_still_loading_serves_the_caller_in_text_then_in_voice(joes_key):
    slow = EmulatorConfig(load_base_seconds=4, load_per_word_seconds=0)
    async with (
        sidecars(config=slow, PERSONAPLEX_LOADING_GRACE=0.3),
        call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller,
    ):
        await caller.receive()
        loading = await caller.receive_until("mode", timeout=10)
        answer = await talk(caller, "Where are you?")
        recovered = await caller.receive_until("mode", timeout=20)
        ready = await caller.receive_until("ready")

    assert loading == {"type": "mode", "mode": "text", "reason": "sidecar_loading"}
    assert "12 Elm Street" in answer
    assert recovered == RECOVERED
    assert ready == {"type": "ready"}
