"""The `gemini_live` engine: Google's Live API hears the caller, answers in its own voice and
calls the call's tools itself.

One Live session at a time per call, through the google-genai SDK. The caller's audio goes up
at 16 kHz as it arrives; the model's audio (24 kHz) and the words both ways come back. The
caller's words are reported as one turn when the model starts answering it. Each tool call runs
through the call's ToolRunner in a task of its own (a slow tool never stalls the stream) and
its outcome goes back for the model to say; a call the model cancels is stopped.

The agent's audio is played out at real-time pace (`Playout`). When the call's speech detector
hears the caller start over it and the call takes that as a barge-in, what is still queued is
dropped at once (the model may have finished sending the turn long before it is heard); the
model's own `interrupted` drops it too, and is reported unless the call had already acted.

Sessions end: Google asks the engine to leave (`goAway`) or the connection drops. With a
resumption handle the engine reconnects at once and the conversation goes on where it was (the
caller's audio is held meanwhile); the caller is told only when that fails or takes longer than
`RESUME_GRACE_SECONDS`. A new session (the first, or one whose handle was refused) starts from
the call's transcript and speaks first: the greeting, or a word that the agent is back. While
the service cannot be reached the engine says so and retries with backoff until cancelled.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import numpy as np
from google.genai import errors, types
from google.genai.live import AsyncSession
from websockets.exceptions import WebSocketException

from nexus_project.metrics import BRIDGE_LATENCY, TURN_LATENCY, gemini_request
from voice.agent.base import ToolRunner, Turn
from voice.agent.gemini_client import GeminiConfig, gemini_client
from voice.audio.base import CallerAudio
from voice.call.background import background_task
from voice.call.latency import LatencyStats
from voice.call.protocol import ModeReason
from voice.engines.base import EngineListener, EngineName, EnginePersona
from voice.engines.gemini_live_caller import CallerVoice
from voice.engines.gemini_live_config import live_connect_config, opening_contents
from voice.engines.gemini_live_playout import Playout
from voice.engines.gemini_live_tools import LiveToolCalls
from voice.models import EndReason

logger = logging.getLogger(__name__)

RETRY_INITIAL_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0
RESUME_GRACE_SECONDS = 3.0  # a resumption slower than this is a drop the caller is told of
CALLER_MIME = "audio/pcm;rate=16000"
_UNREACHABLE = (OSError, TimeoutError, WebSocketException)  # refused, TLS, handshake, timeout


class GeminiLiveEngine:
    name = EngineName.GEMINI_LIVE
    acts = True

    def __init__(
        self,
        *,
        persona: EnginePersona,
        tools: ToolRunner,
        listener: EngineListener,
        caller: CallerVoice,
        config: GeminiConfig,
        model: str,
        history: Callable[[], list[Turn]],
        end_call: Callable[[EndReason], None],
    ) -> None:
        self._persona = persona
        self._specs = tools.specs
        self._tool_calls = LiveToolCalls(tools, call_id=persona.call_id)
        self._listener = listener
        self._client = gemini_client(config)
        self._connect_timeout = config.timeout_seconds
        self._model = model
        self._history = history
        self._end_call = end_call
        self._caller = caller
        self._playout = Playout(listener)
        self._session: AsyncSession | None = None
        self._handle: str | None = None  # the latest, to resume the conversation with
        self._held: list[bytes] | None = None  # the caller's audio while a session resumes
        self._told_ready: bool | None = None  # what the call was told last: ready, or not
        self._answered = False  # the session sent something after its setup: it served
        self._model_in_turn = False  # the model is in a turn (from its first output to its end)
        self._dropping = False  # the call cut the agent off: the rest of this turn is dropped
        self._answer_due: float | None = None  # the caller's turn ended (monotonic), unanswered
        self.turn_latency = LatencyStats(
            TURN_LATENCY.labels(self.name)
        )  # the caller's last speech -> the answer's audio
        self.uplink_latency = LatencyStats(
            BRIDGE_LATENCY.labels("uplink")
        )  # caller frame in -> sent to Gemini

    async def run(self) -> None:
        playing = background_task(self._playout.play(), f"live-playout-{self._call_id}")
        delay = RETRY_INITIAL_SECONDS
        try:
            while True:
                if await self._one_session():
                    delay = RETRY_INITIAL_SECONDS
                    if self._handle is not None:
                        continue  # resume at once
                await self._report_down()
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
        finally:
            playing.cancel()
            await asyncio.gather(playing, self._tool_calls.close(), return_exceptions=True)
            await self._client.aio.aclose()

    async def caller_audio(self, audio: CallerAudio, *, received_at: float) -> None:
        if self._caller.hear(audio):
            await self._caller_started()
        if self._held is None and self._session is None:
            return
        data = self._caller.at_16k(audio).tobytes()
        if self._held is not None:
            self._held.append(data)
        elif self._session is not None:
            with contextlib.suppress(WebSocketException):  # dropped: the receive loop sees it
                await self._session.send_realtime_input(audio=_blob(data))
                self.uplink_latency.add(time.perf_counter() - received_at)

    async def _caller_started(self) -> None:
        """The caller starts to speak: over the agent's voice, the call may take it as a barge-in
        (then what is still queued is dropped, and the rest of the model's turn)."""
        if self._playout.audible and await self._listener.caller_speaking():
            self._playout.clear()
            self._dropping = self._model_in_turn

    async def close(self) -> None:
        await self._caller_turn_over()

    def latency(self) -> dict[str, object]:
        return {
            "turn_latency": self.turn_latency.summary(),
            "uplink_latency": self.uplink_latency.summary(),
        }

    async def _one_session(self) -> bool:
        """Connect (resuming the conversation when there is a handle) and serve until the
        session ends; whether it served (it sent something after its setup)."""
        resuming = self._handle is not None
        quietly = resuming and self._told_ready is True
        self._held = [] if quietly else None
        self._answered = False
        seconds = RESUME_GRACE_SECONDS if quietly else self._connect_timeout
        try:
            async with contextlib.AsyncExitStack() as stack:
                if session := await self._connect(stack, seconds=seconds):
                    await self._serve(session, opening=not resuming)
        except (errors.APIError, WebSocketException) as error:
            logger.info("call %s: Gemini Live session ended: %s", self._call_id, error)
        except Exception:  # whatever went wrong, the call must hear that its voice is gone
            logger.exception("call %s: Gemini Live session failed", self._call_id)
        finally:
            self._session, self._held = None, None
        return self._answered

    async def _connect(
        self, stack: contextlib.AsyncExitStack, *, seconds: float
    ) -> AsyncSession | None:
        """A session set up within `seconds` (resuming with the handle, if any), or None."""
        config = live_connect_config(self._persona, self._specs, handle=self._handle)
        try:
            with gemini_request("live_connect"):
                async with asyncio.timeout(seconds):
                    return await stack.enter_async_context(
                        self._client.aio.live.connect(model=self._model, config=config)
                    )
        except errors.APIError as error:  # the service answered, and refused the setup
            logger.warning("call %s: Gemini Live refused: %s", self._call_id, error)
            self._handle = None  # the next session starts afresh
        except _UNREACHABLE as error:
            logger.info("call %s: Gemini Live unreachable: %r", self._call_id, error)
        return None

    async def _serve(self, session: AsyncSession, *, opening: bool) -> None:
        """Stream both ways until Google asks the engine to leave; a dropped session raises."""
        if opening:
            await session.send_client_content(turns=opening_contents(self._history()))
        while self._held:  # audio that arrives meanwhile joins the queue: the order is kept
            await session.send_realtime_input(audio=_blob(self._held.pop(0)))
        self._session, self._held = session, None
        if self._told_ready is not True:
            self._told_ready = True
            await self._listener.ready(self.name)
        while True:
            async for message in session.receive():
                self._answered = True
                await self._on_message(session, message)
                if message.go_away is not None:
                    logger.info("call %s: Gemini Live asked to leave", self._call_id)
                    return

    async def _on_message(self, session: AsyncSession, message: types.LiveServerMessage) -> None:
        update = message.session_resumption_update
        if update is not None and update.resumable and update.new_handle:
            self._handle = update.new_handle
        if message.tool_call_cancellation is not None:
            self._tool_calls.cancel(message.tool_call_cancellation.ids or [])
        if message.tool_call is not None:
            await self._model_answers()
            self._tool_calls.start(session, message.tool_call.function_calls or [])
        if message.server_content is not None:
            await self._on_content(message.server_content)

    async def _on_content(self, content: types.LiveServerContent) -> None:
        if content.input_transcription is not None and content.input_transcription.text:
            self._caller.words(content.input_transcription.text)
        if content.interrupted:
            await self._model_interrupted()
        parts = (content.model_turn.parts if content.model_turn else None) or []
        audio = [
            part.inline_data.data for part in parts if part.inline_data and part.inline_data.data
        ]
        words = content.output_transcription.text if content.output_transcription else None
        if (audio or words) and not self._dropping:
            await self._model_answers()
            if audio and self._answer_due is not None:
                self.turn_latency.add(time.monotonic() - self._answer_due)
                self._answer_due = None
            for data in audio:
                self._playout.audio(np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2"))
            if words:
                self._playout.text(words)
        if content.generation_complete or content.turn_complete:
            await self._caller_turn_over()
        if content.turn_complete:
            self._model_turn_over()
            self._playout.then(self._listener.agent_turn_end)
            if self._tool_calls.ends_call:
                self._playout.then(self._end_call_now)

    async def _model_answers(self) -> None:
        """The model's turn has begun: the caller's turn it answers is over."""
        if not self._model_in_turn:
            self._model_in_turn = True
            if await self._caller_turn_over() and self._caller.last_spoke_at:
                self._answer_due = self._caller.last_spoke_at

    def _model_turn_over(self) -> None:
        self._model_in_turn = self._dropping = False
        self._answer_due = None

    async def _caller_turn_over(self) -> bool:
        """Report what the caller said since the last report, if anything (then True)."""
        said = self._caller.turn()
        if said is None:
            return False
        await self._listener.caller_words(*said)
        return True

    async def _model_interrupted(self) -> None:
        """The model stopped for the caller: told, unless the call cut the agent off already
        (or there was nothing to cut)."""
        cut_off = (self._model_in_turn or self._playout.audible) and not self._dropping
        self._playout.clear()
        self._model_turn_over()
        if cut_off:
            await self._listener.interrupted()

    async def _end_call_now(self) -> None:
        self._end_call(EndReason.AGENT_ENDED)

    async def _report_down(self) -> None:
        """The engine cannot serve: the caller's words heard so far are reported, and the call
        is told (once)."""
        await self._caller_turn_over()
        self._model_turn_over()
        if self._told_ready is not False:
            self._told_ready = False
            await self._listener.unavailable(ModeReason.ENGINE_UNAVAILABLE)

    @property
    def _call_id(self) -> str:
        return self._persona.call_id


def _blob(data: bytes) -> types.Blob:
    return types.Blob(data=data, mime_type=CALLER_MIME)
