"""The voice path end to end: caller -> Nexus -> PersonaPlex emulator (real port) -> caller.

Assertions are about the signal: the tone that went in comes back at the same frequency.
"""

import asyncio

import numpy as np
import pytest

from bench.signals import dominant_frequency, tone
from voice.audio.base import level_dbfs
from voice.tests.audio_fixtures import mediarecorder_webm
from voice.tests.calls import agent_audio, pcm16_chunks, sidecars, stream_realtime
from voice.tests.conftest import JOES_ORIGIN, call, stored_call

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]


def loud_part(pcm: np.ndarray, rate: int = 24_000) -> np.ndarray:
    """The samples of the 20 ms blocks louder than -30 dBFS."""
    step = rate // 50
    blocks = [pcm[i : i + step] for i in range(0, len(pcm) - step, step)]
    loud = [b for b in blocks if level_dbfs(b) > -30]
    return np.concatenate(loud) if loud else np.zeros(0, dtype=np.int16)


@pytest.mark.parametrize("frame_ms", [20, 40])
async def test_tone_as_pcm16_at_16k_comes_back_at_440_hz(joes_key, frame_ms):
    signal = np.concatenate([tone(440, 1.2, rate=16_000, amplitude=0.4), np.zeros(8000, np.int16)])
    async with sidecars():
        query = f"key={joes_key.key}&format=pcm16&rate=16000&frame_ms={frame_ms}"
        async with call(query, origin=JOES_ORIGIN) as caller:
            call_id = (await caller.receive())["call_id"]
            assert await caller.receive_until("ready") == {"type": "ready"}
            chunks = pcm16_chunks(signal, 16_000, frame_ms)
            await stream_realtime(caller, chunks, frame_ms / 1000)
            await caller.send({"type": "ping"})
            await caller.receive_until("pong")
            await asyncio.sleep(0.4)  # the echo is 240 ms behind
            await caller.send({"type": "ping"})
            await caller.receive_until("pong")

    echoed = loud_part(agent_audio(caller))
    assert len(echoed) > 24_000 * 0.8  # most of the 1.2 s tone came back
    assert dominant_frequency(echoed) == pytest.approx(440, abs=5)
    row, _ = await stored_call(joes_key.tenant, call_id)
    assert row.metrics["uplink_latency"]["count"] > 0


async def test_tone_as_webm_opus_comes_back_at_440_hz(joes_key):
    webm = mediarecorder_webm(tone(440, 1.2, rate=48_000, amplitude=0.4))
    chunks = [webm[i : i + 1000] for i in range(0, len(webm), 1000)]
    query = f"key={joes_key.key}&format=webm-opus"
    async with sidecars(), call(query, origin=JOES_ORIGIN) as caller:
        await caller.receive_until("ready")
        await stream_realtime(caller, chunks, 1.2 / len(chunks))
        await asyncio.sleep(0.8)
        await caller.send({"type": "ping"})
        await caller.receive_until("pong")

    echoed = loud_part(agent_audio(caller))
    assert len(echoed) > 24_000 * 0.6
    assert dominant_frequency(echoed) == pytest.approx(440, abs=5)


async def test_agent_words_become_captions_and_a_stored_turn(joes_key):
    signal = tone(440, 1.0, rate=24_000, amplitude=0.4)
    async with sidecars(), call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller:
        call_id = (await caller.receive())["call_id"]
        await caller.receive_until("ready")
        await stream_realtime(caller, pcm16_chunks(signal, 24_000), 0.02)
        caption = await caller.receive_until("transcript", role="agent", final=False)
        final = await caller.receive_until("transcript", role="agent", final=True)

    assert caption["text"].startswith("echo")
    assert final["id"] == caption["id"]
    assert final["text"].split() == ["echo"] * len(final["text"].split())
    _, entries = await stored_call(joes_key.tenant, call_id)
    assert ("agent", final["text"]) in entries


async def test_silence_keeps_the_sidecar_stream_flowing(joes_key):
    """With no caller audio at all, the bridge sends silence and the sidecar keeps stepping."""
    async with sidecars(), call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller:
        await caller.receive_until("ready")
        await asyncio.sleep(1.0)
        await caller.send({"type": "ping"})
        await caller.receive_until("pong")

    received = agent_audio(caller)
    assert len(received) >= 24_000 * 0.5  # silence pages came back while the caller said nothing
    assert level_dbfs(received) < -60
