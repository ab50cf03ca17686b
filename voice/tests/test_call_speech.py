"""The caller's speech: transcribed into the right tenant's transcript, and barge-in."""

import asyncio

import numpy as np
import pytest

from bench.signals import dominant_frequency, tone
from bench.speech import resampled, silence, speak
from voice.audio.base import level_dbfs
from voice.sidecar.emulator import EmulatorConfig
from voice.tests.calls import agent_audio, pcm16_chunks, sidecars, stream_realtime
from voice.tests.conftest import JOES_ORIGIN, call, stored_call

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(180)]

VOICE = "en-us+f5"  # the espeak-ng voice pocketsphinx's English model understands best


def utterance(text: str, pause: float = 1.0) -> np.ndarray:
    return np.concatenate([silence(0.3), speak(text, voice=VOICE), silence(pause)])


async def test_spoken_question_is_transcribed_and_answered_in_text(joes_key, pizza_key, settings):
    settings.PERSONAPLEX_URLS = []
    settings.NEXUS_VOICE_FALLBACK = "text"
    async with call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller:
        call_id = (await caller.receive())["call_id"]
        await caller.receive_until("mode")
        await stream_realtime(caller, pcm16_chunks(utterance("where are you located"), 24_000), 0)
        heard = await caller.receive_until("transcript", role="caller", timeout=60)
        answer = await caller.receive_until("transcript", role="agent", timeout=60)

    assert "located" in heard["text"].split()  # speech-to-text may miss a word, not this one
    assert "12 Elm Street" in answer["text"]
    _, joes_entries = await stored_call(joes_key.tenant, call_id)
    assert ("caller", heard["text"]) in joes_entries
    pizza_row, pizza_entries = await stored_call(pizza_key.tenant, call_id)
    assert pizza_row is None and pizza_entries == []


@pytest.mark.parametrize("rate", [24_000, 16_000, 48_000])  # heard as PCM24k / as sent
async def test_speech_in_a_voice_call_reaches_the_transcript(joes_key, rate):
    async with sidecars():
        async with call(f"key={joes_key.key}&rate={rate}", origin=JOES_ORIGIN) as caller:
            call_id = (await caller.receive())["call_id"]
            await caller.receive_until("ready")
            audio = resampled(utterance("what time do you open on saturday"), 24_000, rate)
            await stream_realtime(caller, pcm16_chunks(audio, rate), 0.02)
            heard = await caller.receive_until("transcript", role="caller", timeout=60)

    assert {"open", "saturday"} <= set(heard["text"].split())
    _, entries = await stored_call(joes_key.tenant, call_id)
    assert ("caller", heard["text"]) in entries


async def test_speech_still_going_at_hang_up_is_transcribed(joes_key, settings):
    settings.PERSONAPLEX_URLS = []
    settings.NEXUS_VOICE_FALLBACK = "text"
    async with call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller:
        call_id = (await caller.receive())["call_id"]
        await caller.receive_until("mode")
        audio = np.concatenate([silence(0.3), speak("hello there", voice=VOICE)])
        await stream_realtime(caller, pcm16_chunks(audio, 24_000), 0)
        await caller.send({"type": "end"})
        await caller.receive_until("ended", timeout=60)

    _, entries = await stored_call(joes_key.tenant, call_id)
    assert any(role == "caller" and "hello" in text.split() for role, text in entries)


@pytest.mark.parametrize("rate", [24_000, 16_000])
async def test_barge_in_interrupts_and_drops_the_rest_of_the_agent_turn(joes_key, rate):
    """The emulator echoes 1.2 s late: the caller talks again over the echo of their first words."""
    slow_echo = EmulatorConfig(load_base_seconds=0.05, load_per_word_seconds=0, echo_delay_steps=15)
    first = np.concatenate([speak("hello there", voice=VOICE), silence(0.8)])  # ~1.6 s
    second = np.concatenate([speak("yes please", voice=VOICE), silence(2.0)])
    async with sidecars(config=slow_echo):
        async with call(f"key={joes_key.key}&rate={rate}", origin=JOES_ORIGIN) as caller:
            call_id = (await caller.receive())["call_id"]
            await caller.receive_until("ready")
            said = resampled(np.concatenate([first, second]), 24_000, rate)
            chunks = pcm16_chunks(said, rate)
            sender = asyncio.create_task(stream_realtime(caller, chunks, 0.02))
            await caller.receive_until("interrupt", timeout=10)
            audio_before = len(caller.audio)
            interrupted = await caller.receive_until("transcript", role="agent", final=True)
            await sender

    assert interrupted["interrupted"] is True
    after = np.frombuffer(b"".join(caller.audio[audio_before:]), dtype=np.int16)
    first_echo_rest = after[: 24_000 // 2]  # the half second after the interrupt
    assert level_dbfs(first_echo_rest) < -60  # the rest of the interrupted turn was not sent
    assert level_dbfs(agent_audio(caller)) > -50  # the agent's voice did play before
    row, entries = await stored_call(joes_key.tenant, call_id)
    assert row.metrics["interruptions"] >= 1
    assert ("agent", interrupted["text"]) in entries


class StuckSpeechToText:
    """A recognizer that never finishes until `release` is set: a saturated machine."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.given = 0

    async def transcribe(self, pcm, context=None) -> str:
        self.given += 1
        await self.release.wait()
        return "late words"


async def test_a_stuck_recognizer_drops_captions_while_the_call_audio_keeps_flowing(
    joes_key, monkeypatch, caplog
):
    stuck = StuckSpeechToText()
    monkeypatch.setattr("voice.call.factory.speech_to_text", lambda name: stuck)
    bursts = [np.concatenate([silence(0.3), tone(440, 0.4, amplitude=0.4), silence(0.8)])] * 7
    async with sidecars(), call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller:
        await caller.receive_until("ready")
        await stream_realtime(caller, pcm16_chunks(np.concatenate(bursts), 24_000), 0.02)
        await caller.send({"type": "ping"})
        await caller.receive_until("pong")
        echoed, given_while_stuck = agent_audio(caller), stuck.given
        stuck.release.set()

    assert given_while_stuck == 1  # the first burst; of the six after it, four wait in the queue
    dropped = [r for r in caplog.records if "dropped untranscribed" in r.getMessage()]
    assert len(dropped) == 2
    blocks = echoed[: len(echoed) // 2400 * 2400].reshape(-1, 2400)  # 100 ms each
    frequencies = [dominant_frequency(block) for block in blocks if level_dbfs(block) > -15]
    assert len(frequencies) >= 14  # most of the 7 bursts' 2.8 s came back
    assert np.median(frequencies) == pytest.approx(440, abs=5)
