"""The gemini_live engine through `/ws/call/`: Joe's persona speaks with Google's Live API.

The real google-genai SDK talks to the local fake of the Live API (`fake_gemini_live`), whose
scripted model turns speak a tone of a known frequency with their words as transcriptions. The
caller streams pcm16 at 24 kHz in real time (espeak-ng speech, silence after it: the fake ends
the caller's turn after half a second of quiet) and gets the agent's audio back in the same
format. What reaches the caller (audio, transcript entries, tool cards, `interrupt`), what the
fake received (setup, tool responses, resumption handles) and the rows in Joe's schema are
checked.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import numpy as np
import pytest

from bench.signals import dominant_frequency, tone
from bench.speech import silence, speak
from tenants_app.opening_hours import DASH
from tools_registry.when import spoken_slot
from voice.call.barge_in import caller_speech_detector
from voice.tests.calls import agent_audio, pcm16_chunks, stream_realtime
from voice.tests.conftest import (
    JOES_ORIGIN,
    Caller,
    Key,
    at_3pm,
    call,
    persona_voice,
    stored_call,
)
from voice.tests.fake_gemini_live import (
    API_KEY,
    END_QUIET_SECONDS,
    SPEECH_RMS,
    FakeGeminiLive,
    ModelTurn,
    ToolUse,
    fake_gemini_live,
    pieces,
)
from voice.tests.test_call_tools import bookings_of, invocations_of

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.timeout(240),
    pytest.mark.filterwarnings("ignore:Inheritance class AiohttpClientSession"),
]

RATE = 24_000  # the caller's audio and the agent's: pcm16 at 24 kHz, the call's defaults
WAIT = 60.0  # seconds: the box may be busy
GREETING_WORDS = ("Thanks for calling ", "Joe's Barbershop, ", "this is Sam. ", "How can I help?")
GREETING = ModelTurn(words=GREETING_WORDS, frequency=330.0)
HOURS = "What are your opening hours?"
OPEN = ("We're open", " Tuesday to Saturday,", " nine to six.")


@pytest.fixture
async def live(tls_dir, settings) -> AsyncIterator[FakeGeminiLive]:
    """The fake Live API, as the Gemini the call's engine reaches."""
    async with fake_gemini_live(tls_dir) as server:
        settings.GEMINI_API_KEY, settings.GEMINI_BASE_URL = API_KEY, server.base_url
        yield server


@asynccontextmanager
async def gemini_call(key: Key, query: str = "") -> AsyncIterator[Caller]:
    """A voice call to Joe's, its persona switched to gemini_live with the voice Puck."""
    async with (
        persona_voice(key, "gemini_live", "Puck"),
        call(f"key={key.key}{query}", origin=JOES_ORIGIN) as caller,
    ):
        yield caller


def without_trailing_quiet(speech: np.ndarray) -> np.ndarray:
    """`speech` up to its last 10 ms that the fake hears as speech (espeak-ng ends in quiet)."""
    window = RATE // 100
    levels = [
        np.sqrt(np.mean((speech[i : i + window] / 32768) ** 2))
        for i in range(0, len(speech), window)
    ]
    loud = [index for index, level in enumerate(levels) if level >= SPEECH_RMS]
    return speech[: (loud[-1] + 1) * window]


async def say(caller: Caller, speech: np.ndarray) -> float:
    """Stream `speech` into the call at real-time pace, then a second of quiet; the loop time
    its last loud sound was sent (the caller's turn is over from then on)."""
    loop = asyncio.get_running_loop()
    speech = without_trailing_quiet(speech)
    await stream_realtime(caller, pcm16_chunks(np.concatenate([silence(0.3), speech]), RATE), 0.02)
    ended = loop.time()
    await stream_realtime(caller, pcm16_chunks(silence(1.0), RATE), 0.02)
    return ended


async def next_audio(caller: Caller, timeout: float = WAIT) -> float:
    """Read the socket up to the next audio frame (messages met on the way are kept in
    `caller.messages`); the loop time it came."""
    while True:
        frame = await caller.ws.receive_output(timeout)
        assert frame["type"] != "websocket.close", "the call closed while waiting for audio"
        if frame.get("bytes") is not None:
            caller.audio.append(frame["bytes"])
            return asyncio.get_running_loop().time()
        caller.messages.append(json.loads(frame["text"]))


def pcm_of(frames: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(frames), dtype=np.int16)


def of_type(caller: Caller, kind: str, **fields) -> list[dict]:
    return [
        message
        for message in caller.messages
        if message["type"] == kind and all(message.get(k) == v for k, v in fields.items())
    ]


async def test_the_persona_greets_and_answers_a_spoken_question_in_its_live_voice(
    joes_key, pizza_key, live, settings
):
    live.script(GREETING, ModelTurn(heard=HOURS, words=OPEN, frequency=660.0))
    async with gemini_call(joes_key) as caller:
        session = await caller.receive()
        call_id = session["call_id"]
        assert await caller.receive_until("ready", timeout=WAIT) == {"type": "ready"}
        greeting = await caller.receive_until("transcript", role="agent", final=True, timeout=WAIT)
        greeted = agent_audio(caller)
        answered_from = len(caller.audio)
        asking = asyncio.create_task(say(caller, speak(HOURS)))
        first_answer_audio_at = await next_audio(caller)
        answer = await caller.receive_until("transcript", role="agent", final=True, timeout=WAIT)
        spoke_until = await asking
        answered = pcm_of(caller.audio[answered_from:])

    assert session["audio"]["out"] == {"format": "pcm16", "rate": RATE}
    assert greeting["text"] == "".join(GREETING_WORDS)
    assert len(greeted) == RATE * GREETING.seconds  # all of it, nothing more
    assert dominant_frequency(greeted, RATE) == pytest.approx(330.0, abs=3)
    assert answer["text"] == "".join(OPEN).strip()
    assert len(answered) == RATE
    assert dominant_frequency(answered, RATE) == pytest.approx(660.0, abs=3)
    [heard] = of_type(caller, "transcript", role="caller")
    assert (heard["text"], heard["final"]) == (HOURS, True)
    assert of_type(caller, "mode") == []
    latency = first_answer_audio_at - spoke_until
    # The fake waits for END_QUIET_SECONDS of quiet (sent a 20 ms chunk ahead); then the answer.
    assert END_QUIET_SECONDS - 0.05 < latency < END_QUIET_SECONDS + 4.0, latency
    print(f"caller's turn end -> first agent audio at the caller: {latency * 1000:.0f} ms")
    # Stored in Joe's schema only.
    row, entries = await stored_call(joes_key.tenant, call_id)
    assert entries == [("agent", greeting["text"]), ("caller", HOURS), ("agent", answer["text"])]
    assert row.metrics["turn_latency"]["count"] == 1
    assert await stored_call(pizza_key.tenant, call_id) == (None, [])
    # What Google would have received.
    [setup] = live.received.setups
    assert setup["model"] == f"models/{settings.GEMINI_LIVE_MODEL}"
    voice = setup["generationConfig"]["speechConfig"]["voice_config"]["prebuilt_voice_config"]
    assert voice == {"voice_name": "Puck"}
    [instruction] = setup["systemInstruction"]["parts"]
    assert "Joe's Barbershop" in instruction["text"]
    assert f"Opening hours: Tuesday to Saturday 9:00{DASH}18:00" in instruction["text"]
    declared = {d["name"] for d in setup["tools"][0]["functionDeclarations"]}
    assert {"check_availability", "book_appointment", "end_call"} <= declared
    assert live.received.caller_turns == 1


async def test_a_caller_at_16_khz_reaches_the_live_api_as_sent(joes_key, live):
    sent = tone(440, 1.0, rate=16_000, amplitude=0.4)
    live.script(GREETING)
    async with gemini_call(joes_key, "&rate=16000") as caller:
        await caller.receive_until("ready", timeout=WAIT)
        await stream_realtime(caller, pcm16_chunks(sent, 16_000), 0.02)
        await caller.send({"type": "end"})
        await caller.receive_until("ended", timeout=WAIT)

    assert sent.astype("<i2").tobytes() in live.received.caller_audio  # not a sample resampled


async def test_the_live_model_books_an_appointment_through_joes_calendar(
    joes_key, live, open_day, celery_worker
):
    said, day = open_day
    slot = spoken_slot(at_3pm(day))
    asked = {"date": said.removeprefix("on "), "time": "3pm", "name": "Jamie Lee"}
    request = f"Can I book a haircut {said} at 3pm? My name is Jamie Lee"
    live.script(
        GREETING,
        ModelTurn(
            heard=request,
            tool=ToolUse("book_appointment", asked),
            words=("{result[confirm_with_caller]}.", " Shall I book it?"),
        ),
        ModelTurn(
            heard="Yes please",
            tool=ToolUse("book_appointment", {**asked, "confirmed": True}),
            words=("{summary}.", " See you then!"),
            frequency=880.0,
        ),
    )
    async with gemini_call(joes_key) as caller:
        call_id = (await caller.receive())["call_id"]
        await caller.receive_until("transcript", role="agent", final=True, timeout=WAIT)
        await say(caller, speak(request))
        offer = await caller.receive_until("transcript", role="agent", final=True, timeout=WAIT)
        booked_from = len(caller.audio)
        await say(caller, speak("Yes please"))
        done = await caller.receive_until("transcript", role="agent", final=True, timeout=WAIT)
        confirmation = pcm_of(caller.audio[booked_from:])

    assert offer["text"] == f"An appointment on {slot} for Jamie Lee. Shall I book it?"
    assert done["text"] == f"Booked for Jamie Lee: {slot}. See you then!"
    assert dominant_frequency(confirmation, RATE) == pytest.approx(880.0, abs=3)
    preview, booking = live.received.tool_responses
    assert (preview["name"], preview["response"]["ok"]) == ("book_appointment", True)
    assert preview["response"]["summary"] == f"{slot} is free"
    assert preview["response"]["result"]["date"] == day.isoformat()
    assert (booking["name"], booking["response"]["ok"]) == ("book_appointment", True)
    assert booking["response"]["result"]["time"] == "15:00"
    cards = [(m["name"], m["title"], m["status"], m["summary"]) for m in of_type(caller, "tool")]
    assert cards == [
        ("book_appointment", "Booking", "started", ""),
        ("book_appointment", "Booking", "succeeded", f"{slot} is free"),
        ("book_appointment", "Booking", "started", ""),
        ("book_appointment", "Booking", "succeeded", f"Booked for Jamie Lee: {slot}"),
    ]
    assert [m["text"] for m in of_type(caller, "transcript", role="caller")] == [
        request,
        "Yes please",
    ]
    assert await bookings_of("joes", call_id) == [("Jamie Lee", at_3pm(day))]
    assert await invocations_of("joes", call_id) == [
        ("book_appointment", "succeeded"),  # the slot checked, to say back
        ("book_appointment", "succeeded"),  # booked, once the caller said yes
    ]
    _, entries = await stored_call(joes_key.tenant, call_id)
    assert ("tool", f"book_appointment succeeded: Booked for Jamie Lee: {slot}") in entries
    assert ("agent", done["text"]) in entries


LONG_ANSWER = tuple(pieces("We are open Tuesday to Saturday from nine in the morning until six."))
BARGE_IN = tone(1000.0, 0.6, RATE, amplitude=0.3)  # loud, but not speech to webrtcvad
SORRY = "Sorry, one more thing"
AFTER_INTERRUPTION = 20.0  # seconds: the next answer starts a second or two after the barge-in


@dataclass
class TalkedOver:
    """A call in which the caller talked over the agent's long answer (index: of caller.audio)."""

    call_id: str
    interrupt: dict
    cut: dict  # the answer's transcript entry, cut off
    answer_from: int
    interrupted_at: int


async def talk_over_the_long_answer(caller: Caller, live: FakeGeminiLive) -> TalkedOver:
    """Ask the opening hours, then talk over the long answer with a sound the call's own speech
    detector ignores (so only the model's `interrupted` can cut the answer off); the model then
    answers the caller's new turn ("Yes?", at 880 Hz)."""
    assert caller_speech_detector().feed(BARGE_IN) == []
    live.script(
        GREETING,
        ModelTurn(heard=HOURS, words=LONG_ANSWER, seconds=6.0, frequency=440.0),
        ModelTurn(heard=SORRY, words=("Yes?",), frequency=880.0),
    )
    call_id = (await caller.receive())["call_id"]
    await caller.receive_until("transcript", role="agent", final=True, timeout=WAIT)
    answer_from = len(caller.audio)
    # The answer starts in the second of quiet after the question; the fake sends its 6 s in
    # 3 s, and the caller talks over it half a second after it started.
    await say(caller, speak(HOURS))
    await caller.receive_until("transcript", role="agent", final=False, timeout=WAIT)
    barging = asyncio.create_task(say(caller, BARGE_IN))
    interrupt = await caller.receive_until("interrupt", timeout=WAIT)
    interrupted_at = len(caller.audio)
    cut = await caller.receive_until("transcript", role="agent", final=True, timeout=WAIT)
    await barging
    return TalkedOver(call_id, interrupt, cut, answer_from, interrupted_at)


async def test_the_models_interruption_reaches_the_caller_and_cuts_the_answer(joes_key, live):
    async with gemini_call(joes_key) as caller:
        over = await talk_over_the_long_answer(caller, live)
        # The caller's new turn, reported once the model answers it: well after the last of
        # the cut-off answer would have been played.
        await caller.receive_until("transcript", role="caller", text=SORRY, timeout=WAIT)
        before = pcm_of(caller.audio[over.answer_from : over.interrupted_at])
        after = caller.audio[over.interrupted_at :]

    assert over.interrupt == {"type": "interrupt"}
    assert live.received.interruptions == 1  # the model's, the call's own detector took none
    assert len(of_type(caller, "interrupt")) == 1
    full = "".join(LONG_ANSWER).strip()
    assert over.cut["interrupted"] is True
    assert full.startswith(over.cut["text"]) and over.cut["text"] != full  # what was heard
    assert 0 < len(before) < 5 * RATE  # of 6 s: cut off
    assert dominant_frequency(before, RATE) == pytest.approx(440.0, abs=3)
    assert after == []  # nothing more of the answer cut off
    _, entries = await stored_call(joes_key.tenant, over.call_id)
    assert ("agent", over.cut["text"]) in entries


async def test_the_answer_after_an_interruption_is_heard_in_full(joes_key, live):
    async with gemini_call(joes_key) as caller:
        over = await talk_over_the_long_answer(caller, live)
        again = await caller.receive_until(
            "transcript", role="agent", final=True, timeout=AFTER_INTERRUPTION
        )
        after = pcm_of(caller.audio[over.interrupted_at :])

    assert again["text"] == "Yes?"
    assert len(after) == RATE  # the new answer, whole, and nothing of the one cut off
    assert dominant_frequency(after, RATE) == pytest.approx(880.0, abs=3)
    _, entries = await stored_call(joes_key.tenant, over.call_id)
    assert ("caller", SORRY) in entries and ("agent", "Yes?") in entries


async def test_a_session_google_ends_is_resumed_unnoticed_and_the_call_goes_on(joes_key, live):
    live.script(
        GREETING,
        ModelTurn(heard="First question", words=("First answer.",), after="go_away"),
        ModelTurn(heard="Second question", words=("Second answer.",), frequency=880.0),
    )
    async with gemini_call(joes_key) as caller:
        call_id = (await caller.receive())["call_id"]
        await caller.receive_until("transcript", role="agent", final=True, timeout=WAIT)
        await say(caller, speak("First question"))
        first = await caller.receive_until("transcript", role="agent", final=True, timeout=WAIT)
        second_from = len(caller.audio)
        await say(caller, speak("Second question"))
        second = await caller.receive_until("transcript", role="agent", final=True, timeout=WAIT)
        second_audio = pcm_of(caller.audio[second_from:])

    assert live.received.resumed_with == [None, live.handles[2]]  # given after the first answer
    assert len(live.received.client_contents) == 1  # the resumed session was not opened again
    assert (first["text"], second["text"]) == ("First answer.", "Second answer.")
    assert len(second_audio) == RATE
    assert dominant_frequency(second_audio, RATE) == pytest.approx(880.0, abs=3)
    assert of_type(caller, "mode") == []  # the caller never heard of it
    assert len(of_type(caller, "ready")) == 1
    _, entries = await stored_call(joes_key.tenant, call_id)
    assert [text for role, text in entries if role == "caller"] == [
        "First question",
        "Second question",
    ]
