"""PersonaPlex and its fallback, the cascade voice: sidecars that hold several calls, a sidecar
down (the caller hears the cascade, then PersonaPlex when it is back), a full pool."""

import asyncio
import dataclasses

import numpy as np
import pytest
from django.test import override_settings

from bench.processes import free_port
from voice.sidecar.emulator import running_emulator
from voice.tests.calls import FAST_LOAD, agent_audio, pcm16_chunks, sidecars, stream_realtime
from voice.tests.conftest import JOES_ORIGIN, call, stored_call

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(90)]

TONE = (8000 * np.sin(2 * np.pi * 440 * np.arange(24_000) / 24_000)).astype(np.int16)  # 1 s


def engine_move(engine: str, reason: str) -> dict:
    return {"type": "mode", "mode": "voice", "reason": reason, "engine": engine}


async def test_with_the_sidecar_down_the_caller_hears_the_cascade_then_personaplex(joes_key):
    port = free_port()
    settings = {"PERSONAPLEX_URLS": [f"ws://127.0.0.1:{port}"], "PERSONAPLEX_RETRY_INITIAL": 0.2}
    with override_settings(**settings):
        async with call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller:
            call_id = (await caller.receive())["call_id"]
            fallback = await caller.receive_until("mode", timeout=20)
            await caller.receive_until("ready")
            greeting = await caller.receive_until(
                "transcript", role="agent", final=True, timeout=30
            )
            cascade_audio = agent_audio(caller)
            async with running_emulator(FAST_LOAD, port=port):
                recovered = await caller.receive_until("mode", timeout=20)
                ready = await caller.receive_until("ready")
                sending = asyncio.create_task(
                    stream_realtime(caller, pcm16_chunks(TONE, 24_000), 0.02)
                )
                echo = await caller.receive_until("transcript", role="agent", timeout=20)
                await sending

    assert fallback == engine_move("cascade", "sidecar_unavailable")
    assert greeting["text"].startswith("Thanks for calling Joe's Barbershop")
    assert len(cascade_audio) > 24_000  # over a second of the greeting, spoken
    assert abs(cascade_audio.astype(float)).mean() > 300  # speech, not silence
    assert recovered == engine_move("nvidia_personaplex", "recovered")
    assert ready == {"type": "ready"}
    assert "echo" in echo["text"]  # the emulator's own words: PersonaPlex serves now
    row, entries = await stored_call(joes_key.tenant, call_id)
    assert ("agent", greeting["text"]) in entries
    assert row.mode == "voice"


async def test_a_sidecar_of_two_sessions_takes_two_calls_and_the_cascade_voices_a_third(
    joes_key,
):
    two_sessions = dataclasses.replace(FAST_LOAD, sessions=2)
    async with sidecars(config=two_sessions) as [url]:
        query = f"key={joes_key.key}"
        with override_settings(PERSONAPLEX_URLS=[f"{url}#sessions=2"]):
            async with (  # three callers, each from a client address of their own
                call(query, origin=JOES_ORIGIN, client="127.0.0.11") as first,
                call(query, origin=JOES_ORIGIN, client="127.0.0.12") as second,
            ):
                await first.receive()
                await second.receive()
                first_ready = await first.receive_until("ready", timeout=20)
                second_ready = await second.receive_until("ready", timeout=20)
                async with call(query, origin=JOES_ORIGIN, client="127.0.0.13") as third:
                    busy = await third.receive_until("mode", timeout=20)
                    await third.receive_until("ready")

    assert first_ready == second_ready == {"type": "ready"}
    assert [m for m in first.messages + second.messages if m["type"] == "mode"] == []
    assert busy == engine_move("cascade", "sidecar_busy")
