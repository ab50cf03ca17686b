"""The cascade engine through `/ws/call/`: offline speech-to-text, the offline agent and eSpeak NG.

The agent's audio is checked by what it says: the offline speech-to-text runs on it and must
find the words of the answer. Barge-in stops the answer and keeps what was heard of it.
"""

import asyncio

import numpy as np
import pytest

from bench.speech import silence, speak
from voice.speech.pocketsphinx_stt import PocketsphinxSpeechToText
from voice.tests.calls import agent_audio, pcm16_chunks, stream_realtime
from voice.tests.conftest import JOES_ORIGIN, call, persona_voice, stored_call

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(120)]

VOICE = "en-us+f5"  # the caller's espeak-ng voice, which pocketsphinx's English model hears best


async def ask(caller, words: str) -> None:
    """Say `words` into the call at real-time pace, then a second of silence."""
    speech = np.concatenate([silence(0.3), speak(words, voice=VOICE), silence(1.0)])
    await stream_realtime(caller, pcm16_chunks(speech, 24_000), 0.02)


async def test_the_cascade_persona_greets_and_answers_a_spoken_question_by_voice(
    joes_key, pizza_key
):
    async with (
        persona_voice(joes_key, "cascade", "Kore"),
        call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller,
    ):
        call_id = (await caller.receive())["call_id"]
        assert await caller.receive_until("ready") == {"type": "ready"}
        greeting = await caller.receive_until("transcript", role="agent", final=True, timeout=30)
        greeted = agent_audio(caller)
        asking = asyncio.create_task(ask(caller, "what are your opening hours"))
        heard = await caller.receive_until("transcript", role="caller", final=True, timeout=60)
        answered_from = len(caller.audio)
        answer = await caller.receive_until("transcript", role="agent", final=True, timeout=60)
        await asking
        spoken_answer = np.frombuffer(b"".join(caller.audio[answered_from:]), dtype=np.int16)

    assert greeting["text"] == "Thanks for calling Joe's Barbershop, this is Sam. How can I help?"
    greeting_heard = await PocketsphinxSpeechToText().transcribe(
        np.concatenate([silence(0.3), greeted, silence(0.3)])
    )
    # The general English model hears "Joe's Barbershop" differently from run to run (as the
    # audio's end falls): the everyday words at both ends of the greeting are what it keeps.
    assert "thanks for" in greeting_heard and "how can i" in greeting_heard, greeting_heard
    assert "opening hours" in heard["text"]
    assert answer["text"] == "Tuesday to Saturday 9:00\N{EN DASH}18:00; closed Monday and Sunday."
    words_heard = await PocketsphinxSpeechToText().transcribe(
        np.concatenate([silence(0.3), spoken_answer, silence(0.3)])
    )
    days = {"tuesday", "saturday", "sunday", "monday"} & set(words_heard.split())
    assert len(days) >= 2, words_heard  # the days of the answer, heard in its audio
    _, entries = await stored_call(joes_key.tenant, call_id)
    assert ("agent", answer["text"]) in entries
    assert ("caller", heard["text"]) in entries
    assert await stored_call(pizza_key.tenant, call_id) == (None, [])


async def test_barging_in_stops_the_answer_and_keeps_what_was_heard(joes_key):
    async with (
        persona_voice(joes_key, "cascade", "Kore"),
        call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller,
    ):
        call_id = (await caller.receive())["call_id"]
        await caller.receive_until("transcript", role="agent", final=True, timeout=30)
        asking = asyncio.create_task(ask(caller, "how much is a haircut"))
        await caller.receive_until("transcript", role="caller", final=True, timeout=60)
        await asking
        await caller.receive_until("transcript", role="agent", final=False, timeout=60)
        speech_onset = asyncio.get_running_loop().time() + 0.3  # after ask()'s silence
        barging = asyncio.create_task(ask(caller, "wait a moment please"))
        interrupt = await caller.receive_until("interrupt", timeout=30)
        onset_to_interrupt = asyncio.get_running_loop().time() - speech_onset
        audio_at_interrupt = len(caller.audio)
        interrupted = await caller.receive_until("transcript", role="agent", final=True)
        await barging
        await caller.receive_until("transcript", role="caller", final=True, timeout=60)
        after_interrupt = caller.audio[audio_at_interrupt:]

    print(f"\nspeech onset -> interrupt: {onset_to_interrupt * 1000:.0f} ms")
    assert interrupt == {"type": "interrupt"}
    assert interrupted.get("interrupted") is True
    full = "Haircut 25 dollars, beard trim 15 dollars, haircut and beard 35 dollars."
    said = interrupted["text"]
    assert said and full.startswith(said) and said != full  # what was heard, not the rest
    assert after_interrupt == []  # nothing more of the interrupted answer reached the caller
    _, entries = await stored_call(joes_key.tenant, call_id)
    assert ("agent", said) in entries
