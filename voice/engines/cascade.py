"""The `cascade` engine: the caller's speech to text, the text agent's answer, its text to speech.

The caller's turns are cut by voice activity and transcribed (`CallerTurns`); each is answered
by the text agent with the call's tools, streamed, and spoken sentence by sentence as soon as
each is whole (`Speaker`), so the first words play while the rest is generated. The agent's
words are the text it speaks, so the transcript is exact. When the caller barges in, the answer
is stopped (the agent's stream and its speech) and the turn keeps what was actually heard; a
new caller turn while an answer is still being made replaces it. The cascade needs no service
of its own: it is ready at once, and greets the caller when the agent has not spoken yet.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from nexus_project.metrics import TURN_LATENCY
from voice.agent.base import Agent, ToolRunner, Turn
from voice.audio.base import CallerAudio
from voice.call.background import background_task
from voice.call.caller_turns import Hearing
from voice.call.latency import LatencyStats
from voice.engines.base import EngineListener, EngineName, EnginePersona
from voice.engines.sentences import SentenceSplitter
from voice.engines.speaking import Speaker
from voice.engines.voices import Voice
from voice.models import EndReason
from voice.speech.tts import TextToSpeech


class CascadeEngine:
    name = EngineName.CASCADE
    acts = True

    def __init__(
        self,
        *,
        persona: EnginePersona,
        voice: Voice,
        listener: EngineListener,
        hearing: Hearing,
        agent: Agent,
        tools: ToolRunner,
        tts: TextToSpeech,
        history: Callable[[], list[Turn]],
        end_call: Callable[[EndReason], None],
    ) -> None:
        self._persona = persona
        self._voice = voice
        self._listener = listener
        self._agent = agent
        self._tools = tools
        self._tts = tts
        self._history = history
        self._end_call = end_call
        self._turns = hearing.turns(
            on_speech_start=self._caller_speaking, on_utterance=self._caller_said
        )
        self._answering: asyncio.Task | None = None
        self._caller_done_at = 0.0  # monotonic: when the last caller turn was cut
        self.turn_latency = LatencyStats(
            TURN_LATENCY.labels(self.name)
        )  # caller turn cut -> the answer's first audio

    async def run(self) -> None:
        await self._listener.ready(self.name)
        if not any(turn.role == "agent" for turn in self._history()):
            self._answer_with(self._greet())
        try:
            await asyncio.Future()  # serve until cancelled
        finally:
            await self._stop_answering()

    async def caller_audio(self, audio: CallerAudio, *, received_at: float) -> None:
        await self._turns.audio(audio)

    async def close(self) -> None:
        await self._stop_answering()
        await self._turns.close()

    def latency(self) -> dict[str, object]:
        return {"turn_latency": self.turn_latency.summary()}

    async def _caller_speaking(self) -> None:
        if await self._listener.caller_speaking():
            await self._stop_answering()

    async def _caller_said(self, text: str, start_ms: int, end_ms: int) -> None:
        self._caller_done_at = time.monotonic()
        await self._listener.caller_words(text, start_ms, end_ms)
        await self._stop_answering()
        await self._listener.agent_turn_end()  # what of an answer it replaces was heard
        self._answer_with(self._answer())

    def _answer_with(self, answer: Coroutine[Any, Any, None]) -> None:
        self._answering = background_task(answer, f"answer-{self._persona.call_id}")

    async def _stop_answering(self) -> None:
        answering, self._answering = self._answering, None
        if answering is not None and answering is not asyncio.current_task():
            answering.cancel()
            await asyncio.gather(answering, return_exceptions=True)

    async def _greet(self) -> None:
        if greeting := self._persona.profile.greeting:
            async with self._speaking() as speaker:
                for sentence in SentenceSplitter().finish(greeting):
                    speaker.say(sentence)

    async def _answer(self) -> None:
        splitter = SentenceSplitter()
        async with self._speaking() as speaker:

            async def speak_whole_sentences(text_so_far: str) -> None:
                for sentence in splitter.feed(text_so_far):
                    speaker.say(sentence)

            reply = await self._agent.reply(
                profile=self._persona.profile,
                history=self._history(),
                tools=self._tools,
                on_partial=speak_whole_sentences,
            )
            for sentence in splitter.finish(reply.text):
                speaker.say(sentence)
        if speaker.first_audio_at is not None:
            self.turn_latency.add(speaker.first_audio_at - self._caller_done_at)
        if any(outcome.ends_call for outcome in reply.tool_outcomes):
            self._end_call(EndReason.AGENT_ENDED)

    @asynccontextmanager
    async def _speaking(self) -> AsyncIterator[Speaker]:
        """A speaker for one agent turn: played to the end, or stopped; the turn then ends."""
        speaker = Speaker(
            tts=self._tts,
            voice=self._voice,
            language=self._persona.language,
            listener=self._listener,
        )
        try:
            yield speaker
            await speaker.finish()
        finally:
            await speaker.stop()
        await self._listener.agent_turn_end()
