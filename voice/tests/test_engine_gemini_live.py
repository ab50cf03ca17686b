"""The gemini_live engine: the real google-genai SDK against the local fake of the Live API.

A test caller feeds the engine 20 ms frames in real time (espeak-ng speech, silence between);
what the engine reports is kept by a recording listener and awaited with generous timeouts.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from bench.processes import free_port
from bench.signals import dominant_frequency
from bench.speech import speak
from tools_registry.base import ToolOutcome, ToolSpec
from voice.agent.base import AgentProfile, Turn
from voice.agent.gemini_client import GeminiConfig
from voice.audio.base import PCM_RATE, CallerAudio
from voice.call.barge_in import caller_speech_detector
from voice.call.clock import CallClock
from voice.call.protocol import ModeReason
from voice.engines.base import EngineName, EnginePersona
from voice.engines.gemini_live import GeminiLiveEngine
from voice.engines.gemini_live_caller import CallerVoice
from voice.models import EndReason
from voice.tests.fake_gemini_live import (
    API_KEY,
    FakeGeminiLive,
    ModelTurn,
    ToolUse,
    fake_gemini_live,
)
from voice.tests.test_agent_gemini import AVAILABILITY, SLOTS

pytestmark = pytest.mark.filterwarnings("ignore:Inheritance class AiohttpClientSession")

MODEL = "gemini-live-test"
FRAME = PCM_RATE // 50  # the caller's 20 ms frames
WAIT = 20.0  # seconds: the box may be busy
JOES = AgentProfile(
    name="Sam",
    business="Joe's Barbershop",
    system_prompt="You are the friendly receptionist of Joe's Barbershop.",
    greeting="Hi, this is Joe's Barbershop. How can I help you?",
    timezone="America/New_York",
)
PERSONA = EnginePersona(
    call_id="call-live",
    profile=JOES,
    voice_id="Puck",
    language="en",
    text_prompt="You are Sam, the friendly receptionist of Joe's Barbershop.",
)
GREETING = ModelTurn(words=("Hi, this is ", "Joe's Barbershop."), frequency=330.0)
HOURS = "What are your opening hours?"


@dataclass
class FakeRunner:
    """A ToolRunner that takes `seconds` per call, records them and answers with `outcome`."""

    outcome: ToolOutcome = SLOTS
    seconds: float = 0.0
    specs: tuple[ToolSpec, ...] = (AVAILABILITY,)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)

    async def run(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        self.calls.append((name, arguments))
        try:
            await asyncio.sleep(self.seconds)
        except asyncio.CancelledError:
            self.cancelled.append(name)
            raise
        return self.outcome


@dataclass
class AgentTurn:
    audio: list[np.ndarray] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    ended: bool = False

    @property
    def pcm(self) -> np.ndarray:
        return np.concatenate(self.audio) if self.audio else np.zeros(0, dtype=np.int16)

    @property
    def text(self) -> str:
        return "".join(self.words)


class RecordingListener:
    """An EngineListener that keeps what it is told. `barges_in`: what `caller_speaking`
    answers (whether the call takes the caller's speech as a barge-in; it then ends the turn)."""

    def __init__(self, *, barges_in: bool = False) -> None:
        self.barges_in = barges_in
        self.ready_engines: list[EngineName] = []
        self.unavailable_reasons: list[ModeReason] = []
        self.turns: list[AgentTurn] = []
        self.caller_said: list[tuple[str, int, int]] = []
        self.speaking_calls = 0
        self.interruptions = 0
        self._changed = asyncio.Event()

    async def until(self, condition: Callable[[], bool], timeout: float = WAIT) -> None:
        """Wait until `condition()` holds (checked on every report)."""
        try:
            async with asyncio.timeout(timeout):
                while not condition():
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"still waiting after {timeout} s: {self!r}") from None

    def ended_turns(self) -> list[AgentTurn]:
        return [turn for turn in self.turns if turn.ended]

    def _current(self) -> AgentTurn:
        if not self.turns or self.turns[-1].ended:
            self.turns.append(AgentTurn())
        return self.turns[-1]

    def _end_turn(self) -> None:
        if self.turns and not self.turns[-1].ended:
            self.turns[-1].ended = True

    def _report(self) -> None:
        self._changed.set()

    async def ready(self, engine: EngineName) -> None:
        self.ready_engines.append(engine)
        self._report()

    async def unavailable(self, reason: ModeReason) -> None:
        self.unavailable_reasons.append(reason)
        self._report()

    async def agent_audio(self, pcm: np.ndarray) -> None:
        self._current().audio.append(pcm)
        self._report()

    async def agent_text(self, piece: str) -> None:
        self._current().words.append(piece)
        self._report()

    async def agent_turn_end(self) -> None:
        self._end_turn()
        self._report()

    async def caller_speaking(self) -> bool:
        self.speaking_calls += 1
        if self.barges_in:
            self._end_turn()
        self._report()
        return self.barges_in

    async def interrupted(self) -> None:
        self.interruptions += 1
        self._end_turn()
        self._report()

    async def caller_words(self, text: str, start_ms: int, end_ms: int) -> None:
        self.caller_said.append((text, start_ms, end_ms))
        self._report()

    def __repr__(self) -> str:
        turns = [(round(len(t.pcm) / PCM_RATE, 2), t.text, t.ended) for t in self.turns]
        return (
            f"<ready={self.ready_engines} unavailable={self.unavailable_reasons} turns={turns}"
            f" caller={self.caller_said} interruptions={self.interruptions}>"
        )


class Caller:
    """The caller's microphone: 20 ms frames to the engine in real time, silence between what
    it says."""

    def __init__(self, engine: GeminiLiveEngine, clock: CallClock) -> None:
        self._engine = engine
        self._clock = clock
        self._speech = np.zeros(0, dtype=np.int16)
        self._task = asyncio.create_task(self._feed())

    def say(self, text: str) -> int:
        """Start saying `text`; the call-clock ms it starts at."""
        self._speech = np.concatenate((self._speech, speak(text)))
        return self._clock.ms()

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _feed(self) -> None:
        started, frames = time.monotonic(), 0
        while True:
            frame, self._speech = self._speech[:FRAME], self._speech[FRAME:]
            frame = np.pad(frame, (0, FRAME - len(frame)))
            audio = CallerAudio.at_24k(frame)
            await self._engine.caller_audio(audio, received_at=time.perf_counter())
            frames += 1
            await asyncio.sleep(max(0.0, started + frames * FRAME / PCM_RATE - time.monotonic()))


@dataclass
class LiveCall:
    engine: GeminiLiveEngine
    listener: RecordingListener
    caller: Caller
    clock: CallClock
    ended: list[EndReason]


@asynccontextmanager
async def live_call(
    base_url: str,
    *,
    listener: RecordingListener | None = None,
    runner: FakeRunner | None = None,
    history: tuple[Turn, ...] = (),
) -> AsyncIterator[LiveCall]:
    """An engine serving a call against `base_url`, its caller's microphone on."""
    clock, ended = CallClock(), []
    listener = listener or RecordingListener()
    engine = GeminiLiveEngine(
        persona=PERSONA,
        tools=runner or FakeRunner(),
        listener=listener,
        caller=CallerVoice(clock, caller_speech_detector()),
        config=GeminiConfig(api_key=API_KEY, base_url=base_url, timeout_seconds=10),
        model=MODEL,
        history=lambda: list(history),
        end_call=ended.append,
    )
    serving = asyncio.create_task(engine.run())
    caller = Caller(engine, clock)
    try:
        yield LiveCall(engine, listener, caller, clock, ended)
    finally:
        await caller.stop()
        await engine.close()
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)


@pytest.fixture
async def live(tls_dir) -> AsyncIterator[FakeGeminiLive]:
    async with fake_gemini_live(tls_dir) as server:
        yield server


def assert_tone(turn: AgentTurn, frequency: float, seconds: float) -> None:
    assert len(turn.pcm) == round(seconds * PCM_RATE)
    assert dominant_frequency(turn.pcm) == pytest.approx(frequency, abs=3)


async def test_greets_then_answers_the_caller_in_its_voice_with_both_sides_words(live):
    live.script(
        GREETING,
        ModelTurn(heard=HOURS, words=(" We're open", " Tuesday to Saturday."), frequency=660.0),
    )
    async with live_call(live.base_url) as call:
        await call.listener.until(lambda: len(call.listener.ended_turns()) == 1)
        spoke_at = call.caller.say(HOURS)
        await call.listener.until(lambda: len(call.listener.ended_turns()) == 2)
        answered_at = call.clock.ms()
        latency = call.engine.latency()

    listener = call.listener
    assert listener.ready_engines == [EngineName.GEMINI_LIVE]
    assert listener.unavailable_reasons == []
    greeting, answer = listener.turns
    assert_tone(greeting, 330.0, GREETING.seconds)
    assert greeting.text == "Hi, this is Joe's Barbershop."
    assert_tone(answer, 660.0, 1.0)
    assert answer.text == " We're open Tuesday to Saturday."
    [(text, start_ms, end_ms)] = listener.caller_said
    assert text == HOURS
    assert spoke_at <= start_ms < end_ms < answered_at
    assert end_ms - start_ms == pytest.approx(len(speak(HOURS)) * 1000 / PCM_RATE, abs=600)
    assert latency["turn_latency"]["count"] == 1
    assert 400 < latency["turn_latency"]["p50_ms"] < 5000  # the fake waits 500 ms of quiet
    assert latency["uplink_latency"]["count"] > 50
    # What Google would have received.
    [setup] = live.received.setups
    assert setup["model"] == f"models/{MODEL}"
    assert setup["generationConfig"]["responseModalities"] == ["AUDIO"]
    voice = setup["generationConfig"]["speechConfig"]["voice_config"]["prebuilt_voice_config"]
    assert voice == {"voice_name": "Puck"}
    [instruction] = setup["systemInstruction"]["parts"]
    assert instruction["text"].startswith(PERSONA.text_prompt)
    assert f"{JOES.now():%A %-d %B %Y}" in instruction["text"]
    assert "America/New_York" in instruction["text"]
    [declaration] = setup["tools"][0]["functionDeclarations"]
    assert declaration["name"] == "check_availability"
    assert declaration["parameters_json_schema"] == AVAILABILITY.parameters
    assert setup["inputAudioTranscription"] == setup["outputAudioTranscription"] == {}
    assert live.received.resumed_with == [None]
    [opening] = live.received.client_contents
    assert opening["turnComplete"] is True
    assert "Greet the caller" in opening["turns"][0]["parts"][0]["text"]
    assert live.received.audio_seconds > len(speak(HOURS)) / PCM_RATE + 0.5
    assert live.received.caller_turns == 1


async def test_a_tool_call_runs_through_the_runner_and_its_result_is_spoken(live):
    live.script(
        GREETING,
        ModelTurn(
            heard="Anything free on Monday?",
            tool=ToolUse("check_availability", {"day": "monday"}),
            words=("On Monday ", "I have {result[slots][0]}", " or {result[slots][1]}."),
        ),
    )
    runner = FakeRunner(seconds=1.0)  # slow: the session goes on meanwhile
    async with live_call(live.base_url, runner=runner) as call:
        await call.listener.until(lambda: len(call.listener.ended_turns()) == 1)
        call.caller.say("Anything free on Monday?")
        await call.listener.until(lambda: len(call.listener.ended_turns()) == 2)

    assert runner.calls == [("check_availability", {"day": "monday"})]
    assert live.received.tool_responses == [
        {
            "id": "call-1",
            "name": "check_availability",
            "response": {"ok": True, "summary": "2 slots", "result": {"slots": ["10:00", "11:30"]}},
        }
    ]
    assert call.listener.turns[1].text == "On Monday I have 10:00 or 11:30."
    assert [said[0] for said in call.listener.caller_said] == ["Anything free on Monday?"]
    assert call.ended == []


async def test_a_tool_that_ends_the_call_ends_it_once_the_answer_is_heard(live):
    live.script(
        GREETING,
        ModelTurn(heard="Bye", tool=ToolUse("end_call", {}), words=("Goodbye!",), seconds=2.0),
    )
    farewell = ToolOutcome(name="end_call", ok=True, result={}, summary="ended", ends_call=True)
    ended_spec = ToolSpec(name="end_call", description="End the call.", parameters={})
    runner = FakeRunner(outcome=farewell, specs=(ended_spec,))
    async with live_call(live.base_url, runner=runner) as call:
        await call.listener.until(lambda: len(call.listener.ended_turns()) == 1)
        call.caller.say("Bye")
        await call.listener.until(lambda: bool(call.ended))
        heard = len(call.listener.turns[1].pcm)

    assert call.ended == [EndReason.AGENT_ENDED]
    assert heard == 2 * PCM_RATE  # all of the goodbye was played before the call ended


async def test_a_tool_call_the_model_cancels_is_stopped_and_never_answered(live):
    live.script(
        GREETING,
        ModelTurn(
            heard="Anything free on Monday?",
            tool=ToolUse("check_availability", {"day": "monday"}, cancel_after=0.5),
            words=("Never mind.",),
        ),
    )
    runner = FakeRunner(seconds=60.0)
    async with live_call(live.base_url, runner=runner) as call:
        await call.listener.until(lambda: len(call.listener.ended_turns()) == 1)
        call.caller.say("Anything free on Monday?")
        await call.listener.until(lambda: len(call.listener.ended_turns()) == 2)

    assert runner.cancelled == ["check_availability"]
    assert live.received.tool_responses == []
    assert call.listener.turns[1].text == "Never mind."


async def test_the_models_interruption_cuts_the_agent_off_and_is_reported(live):
    live.script(
        GREETING,
        ModelTurn(heard=HOURS, words=("We are open ", "every day but Monday."), seconds=6.0),
        ModelTurn(heard="Sorry, one more thing", words=("Yes?",), frequency=880.0),
    )
    async with live_call(live.base_url) as call:  # the call leaves barge-in to the engine
        listener = call.listener
        await listener.until(lambda: len(listener.ended_turns()) == 1)
        call.caller.say(HOURS)
        await listener.until(lambda: len(listener.turns) == 2 and len(listener.turns[1].pcm) > 0)
        await listener.until(lambda: len(listener.turns[1].pcm) > PCM_RATE // 2)
        call.caller.say("Sorry, one more thing")
        await listener.until(lambda: len(listener.ended_turns()) == 3)

    assert live.received.interruptions == 1
    assert listener.interruptions == 1
    assert len(listener.turns[1].pcm) < 4 * PCM_RATE  # of 6 s: cut off
    assert_tone(listener.turns[2], 880.0, 1.0)
    assert [said[0] for said in listener.caller_said] == [HOURS, "Sorry, one more thing"]


async def test_a_barge_in_the_call_takes_drops_the_agent_audio_still_queued(live):
    live.speed = 50.0  # the whole answer arrives at once: only the engine still holds it
    live.script(
        GREETING,
        ModelTurn(heard=HOURS, words=("We are open ", "every day but Monday."), seconds=6.0),
        ModelTurn(heard="Sorry, one more thing", words=("Yes?",), frequency=880.0),
    )
    listener = RecordingListener(barges_in=True)
    async with live_call(live.base_url, listener=listener) as call:
        await listener.until(lambda: len(listener.ended_turns()) == 1)
        call.caller.say(HOURS)
        await listener.until(lambda: len(listener.turns) == 2 and len(listener.turns[1].pcm) > 0)
        await listener.until(lambda: len(listener.turns[1].pcm) > PCM_RATE // 2)
        call.caller.say("Sorry, one more thing")
        await listener.until(lambda: len(listener.ended_turns()) == 3)

    assert live.received.interruptions == 0  # the model had finished sending
    assert listener.interruptions == 0  # the call acted on its own barge-in: not told again
    assert listener.speaking_calls >= 1
    assert len(listener.turns[1].pcm) < 3 * PCM_RATE
    assert_tone(listener.turns[2], 880.0, 1.0)  # nothing of the dropped audio came after


@pytest.mark.parametrize("leaving", ["go_away", "drop"])
async def test_a_session_that_ends_is_resumed_with_its_handle_and_the_call_goes_on(live, leaving):
    live.script(
        GREETING,
        ModelTurn(heard="First question", words=("First answer.",), after=leaving),
        ModelTurn(heard="Second question", words=("Second answer.",), frequency=880.0),
    )
    async with live_call(live.base_url) as call:
        listener = call.listener
        await listener.until(lambda: len(listener.ended_turns()) == 1)
        call.caller.say("First question")
        await listener.until(lambda: len(listener.ended_turns()) == 2)
        await listener.until(lambda: len(live.received.setups) == 2)
        call.caller.say("Second question")
        await listener.until(lambda: len(listener.ended_turns()) == 3)

    assert live.received.resumed_with == [None, live.handles[2]]  # given after the first answer
    assert len(live.received.client_contents) == 1  # the resumed session was not opened again
    assert listener.ready_engines == [EngineName.GEMINI_LIVE]
    assert listener.unavailable_reasons == []
    assert [turn.text for turn in listener.turns[1:]] == ["First answer.", "Second answer."]
    assert_tone(listener.turns[2], 880.0, 1.0)
    assert [said[0] for said in listener.caller_said] == ["First question", "Second question"]


async def test_a_new_session_of_a_call_under_way_starts_from_its_transcript(live):
    live.script(ModelTurn(words=("Sorry, I'm back.",)))
    history = (Turn("agent", JOES.greeting), Turn("caller", "I'd like a haircut"))
    async with live_call(live.base_url, history=history) as call:
        await call.listener.until(lambda: len(call.listener.ended_turns()) == 1)

    [opening] = live.received.client_contents
    assert [turn["role"] for turn in opening["turns"]] == ["model", "user"]
    assert opening["turns"][0]["parts"] == [{"text": JOES.greeting}]
    first, note = opening["turns"][1]["parts"]
    assert first == {"text": "I'd like a haircut"}
    assert "can hear you again" in note["text"]
    assert call.listener.turns[0].text == "Sorry, I'm back."


async def test_an_unreachable_service_is_reported_once_and_retried_until_it_answers(tls_dir):
    port = free_port()
    async with live_call(f"https://127.0.0.1:{port}") as call:
        listener = call.listener
        await listener.until(lambda: listener.unavailable_reasons != [])
        assert listener.ready_engines == []
        async with fake_gemini_live(tls_dir, port=port) as live:
            live.script(GREETING)
            await listener.until(lambda: len(listener.ended_turns()) == 1)
            reasons = list(listener.unavailable_reasons)  # before the fake goes away again

    assert reasons == [ModeReason.ENGINE_UNAVAILABLE]
    assert listener.ready_engines == [EngineName.GEMINI_LIVE]
    assert live.received.resumed_with == [None]
    assert listener.turns[0].text == "Hi, this is Joe's Barbershop."
