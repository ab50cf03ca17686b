"""One live call: the caller's audio and text in, the agent's voice, captions and replies out.

The session joins small parts, each with one job: the caller's decoder, `CallerTurns` (voice
activity and speech-to-text), the `VoicePath` to a PersonaPlex sidecar, `AgentTurns` (captions
from the sidecar's words), the text `Agent` (typed turns, and every turn while voice is down), and
the `TranscriptRecorder`. Every task it starts is kept and awaited on the way out, and `end()`
stores the end of the call whatever path led there.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

from tenants_app.db import tenant_run
from tenants_app.models import Tenant
from tools_registry.runner import CallToolRunner
from voice.agent.base import Agent, AgentProfile, Turn
from voice.audio.base import AudioDecodeError
from voice.audio.formats import caller_decoder, caller_encoder
from voice.call.access import AgentSnapshot
from voice.call.agent_turns import AgentTurns
from voice.call.caller_turns import CallerTurns
from voice.call.clock import CallClock
from voice.call.protocol import CallParams, error_message
from voice.call.transcript import FinalEntry, TranscriptRecorder
from voice.call.voice_path import VoicePath
from voice.services import call_end, call_mode_set
from voice.speech.stt import SpeechToText

logger = logging.getLogger(__name__)

BAD_AUDIO_REPORT_SECONDS = 1.0  # at most one `bad_audio` error a second
BAD_AUDIO_END_SECONDS = 5.0  # undecodable audio for this long ends the call
DRAIN_SECONDS = 15.0  # at the end, how long the last words may take to transcribe
AUDIO_BACKLOG_FRAMES = 100  # caller frames waiting to be heard: 2 s of 20 ms frames
AUDIO_DRAIN_SECONDS = 2.0  # at the end, how long the frames already received may take
SHUTDOWN_DRAIN_SECONDS = 1.0  # less when the server stops: the call must be closed first


@dataclass(frozen=True)
class Outbox:
    """How the session talks to its caller (the consumer's socket)."""

    send_json: Callable[[dict], Awaitable[None]]
    send_bytes: Callable[[bytes], Awaitable[None]]
    close: Callable[[], Awaitable[None]]


class CallSession:
    def __init__(
        self,
        *,
        call_id: str,
        tenant: Tenant,
        agent: AgentSnapshot,
        params: CallParams,
        outbox: Outbox,
        brain: Agent,
        stt: SpeechToText,
        voice_path: Callable[["CallSession"], VoicePath] | None,
        tools: Callable[["CallSession"], CallToolRunner],
    ) -> None:
        self.call_id = call_id
        self._tenant = tenant
        self._agent = agent
        self._params = params
        self._outbox = outbox
        self._brain = brain
        self._profile = AgentProfile(
            name=agent.name,
            system_prompt=agent.system_prompt,
            greeting=agent.greeting,
            knowledge=agent.knowledge,
        )
        self.clock = CallClock()
        self.transcript = TranscriptRecorder(
            tenant=tenant, call_id=call_id, send_json=outbox.send_json
        )
        self._agent_turns = AgentTurns(transcript=self.transcript, clock=self.clock)
        self._tools = tools(self)
        self._end_after_reply = False
        self._caller_turns: CallerTurns | None = None
        self._voice: VoicePath | None = None
        self._tasks: list[asyncio.Task] = []
        self._audio_in: asyncio.Queue[tuple[bytes, float] | None] = asyncio.Queue(
            AUDIO_BACKLOG_FRAMES
        )
        self._audio_task: asyncio.Task | None = None
        self._frames_dropped = 0
        self._mode = params.mode
        self._interruptions = 0
        self._suppress_agent_audio = False
        self._bad_audio_since: float | None = None
        self._bad_audio_reported = 0.0
        self._replying = asyncio.Lock()
        self._cleanups: list[Callable[[], Awaitable[None]]] = []
        self._ending: asyncio.Task | None = None
        if params.mode == "voice":
            self._decoder = caller_decoder(params.format, params.rate)
            self._encoder = caller_encoder(params.out)
            self._caller_turns = CallerTurns(
                stt=stt,
                clock=self.clock,
                on_speech_start=self._caller_started_speaking,
                on_utterance=self._caller_said,
            )
            if voice_path is not None:
                self._voice = voice_path(self)

    @property
    def mode(self) -> str:
        return self._mode

    async def start(self) -> None:
        """Start serving: the voice path in the background, or the text agent's greeting."""
        if self._caller_turns is not None:
            self._audio_task = asyncio.create_task(self._hear_all(), name=f"hear-{self.call_id}")
            self._audio_task.add_done_callback(_log_failure)
        if self._voice is not None:
            self._spawn(self._voice.run(), "voice")
        elif self._mode == "voice":
            await self.voice_unavailable("sidecar_unavailable")  # no sidecar configured
        else:
            await self._greet()

    # The voice path's listener.

    async def voice_ready(self) -> None:
        if self._mode == "text":
            await self._switch_mode("voice", "recovered")
        await self._outbox.send_json({"type": "ready"})

    async def voice_unavailable(self, reason: str) -> None:
        await self._agent_turns.finish()
        if self._mode == "voice":
            await self._switch_mode("text", reason)
            await self._greet()

    async def agent_audio(self, pcm: np.ndarray) -> None:
        if self._suppress_agent_audio:
            if self._voice and self._voice.agent_audible:
                return  # the rest of the interrupted turn
            self._suppress_agent_audio = False
        for message in self._encoder.encode(pcm):
            await self._outbox.send_bytes(message)

    async def agent_text(self, piece: str) -> None:
        if not self._suppress_agent_audio:
            await self._agent_turns.piece(piece)

    # What the caller sends.

    async def caller_audio(self, data: bytes) -> None:
        """Queue a frame of caller audio; it is decoded and heard in the audio task.

        Control messages (text, end, ping) never wait behind audio. When the server falls more
        than `AUDIO_BACKLOG_FRAMES` behind, the oldest frame is dropped and counted.
        """
        if self._caller_turns is None:
            await self._outbox.send_json(
                error_message("bad_message", "this call is in text mode: send text messages")
            )
            return
        self._enqueue((data, time.perf_counter()))

    def _enqueue(self, item: tuple[bytes, float] | None) -> None:
        if self._audio_in.full():
            self._audio_in.get_nowait()
            self._frames_dropped += 1
        self._audio_in.put_nowait(item)

    async def _hear_all(self) -> None:
        while (item := await self._audio_in.get()) is not None:
            try:
                await self._hear(*item)
            except Exception:  # one bad frame must not deafen the rest of the call
                logger.exception("call %s: a frame of caller audio failed", self.call_id)

    async def _hear(self, data: bytes, received_at: float) -> None:
        try:
            pcm = self._decoder.decode(data)
        except AudioDecodeError as error:
            await self._bad_audio(str(error))
            return
        self._bad_audio_since = None
        if len(pcm):
            if self._voice is not None:
                await self._voice.caller_audio(pcm, received_at=received_at)
            await self._caller_turns.audio(pcm)

    async def caller_text(self, text: str) -> None:
        now = self.clock.ms()
        await self.transcript.final(FinalEntry("caller", text, now, now))
        self._spawn(self._reply(), "reply")

    # Turns.

    async def _caller_started_speaking(self) -> None:
        """Barge-in: the caller speaks over the agent's voice."""
        if self._voice is None or not self._voice.agent_audible:
            return
        self._suppress_agent_audio = True
        self._interruptions += 1
        await self._outbox.send_json({"type": "interrupt"})
        await self._agent_turns.finish(interrupted=True)

    async def _caller_said(self, text: str, start_ms: int, end_ms: int) -> None:
        await self.transcript.final(FinalEntry("caller", text, start_ms, end_ms))
        self._spawn(self._reply(spoken=self._mode == "voice"), "reply")

    def _spawn(self, coroutine, name: str) -> None:
        """Run `coroutine` beside the socket loop; kept, and cancelled when the call ends."""
        self._tasks = [task for task in self._tasks if not task.done()]
        task = asyncio.create_task(coroutine, name=f"{name}-{self.call_id}")
        task.add_done_callback(_log_failure)
        self._tasks.append(task)

    async def _reply(self, *, spoken: bool = False) -> None:
        """The text agent answers the conversation so far (one answer at a time).

        In a voice call (`spoken`), the voice model answers the caller itself: the text agent
        only supervises, calling tools whose results reach the caller as cards.
        """
        async with self._replying:
            history = [Turn(e.role, e.text) for e in self.transcript.entries if e.role != "tool"]
            started = self.clock.ms()
            entry_id = self.transcript.new_id()

            async def caption(text: str) -> None:
                await self.transcript.caption(entry_id, "agent", text)

            reply = await self._brain.reply(
                profile=self._profile,
                history=history,
                tools=self._tools,
                on_partial=None if spoken else caption,
            )
            if not spoken:
                entry = FinalEntry("agent", reply.text, started, self.clock.ms())
                await self.transcript.final(entry, entry_id)
        if self._end_after_reply:
            await self.end("agent_ended", notify=True)

    async def tool_report(self, message: dict) -> None:
        """A tool started or ended: a card for the caller, and a transcript entry when done."""
        await self._outbox.send_json({"type": "tool", **message})
        if message["status"] != "started":
            now = self.clock.ms()
            text = f"{message['name']} {message['status']}: {message['summary']}".strip(": ")
            await self.transcript.final(FinalEntry("tool", text, now, now))

    def agent_ends_call(self) -> None:
        """The agent used `end_call`: hang up once its goodbye is said."""
        self._end_after_reply = True

    async def _greet(self) -> None:
        """The text agent opens the conversation, unless the agent has already spoken."""
        spoken = any(entry.role == "agent" for entry in self.transcript.entries)
        if spoken or not self._agent.greeting:
            return
        now = self.clock.ms()
        await self.transcript.final(FinalEntry("agent", self._agent.greeting, now, now))

    async def _switch_mode(self, mode: str, reason: str) -> None:
        self._mode = mode
        await self._outbox.send_json({"type": "mode", "mode": mode, "reason": reason})
        await tenant_run(self._tenant, call_mode_set, call_id=self.call_id, mode=mode)

    async def _bad_audio(self, detail: str) -> None:
        now = time.monotonic()
        self._bad_audio_since = self._bad_audio_since or now
        if now - self._bad_audio_since >= BAD_AUDIO_END_SECONDS:
            self._end_soon("bad_audio", notify=True)  # not awaited: the ending waits for us
            return
        if now - self._bad_audio_reported >= BAD_AUDIO_REPORT_SECONDS:
            self._bad_audio_reported = now
            await self._outbox.send_json(error_message("bad_audio", detail))

    # The end.

    def on_end(self, cleanup: Callable[[], Awaitable[None]]) -> None:
        """Run `cleanup` when the call ends, after everything else."""
        self._cleanups.append(cleanup)

    async def end(self, reason: str, *, notify: bool = False) -> None:
        """End the call once: stop every task, keep what was said, store the end reason.

        The ending runs in its own task, shielded: if whoever awaits it is cancelled (a server
        shutting down), the call is still closed, and a second `end()` waits for the first.
        """
        await asyncio.shield(self._end_soon(reason, notify=notify))

    def _end_soon(self, reason: str, *, notify: bool) -> asyncio.Task:
        """Start ending the call (once); the task that does it."""
        if self._ending is None:
            self._ending = asyncio.create_task(
                self._end(reason, notify), name=f"end-{self.call_id}"
            )
        return self._ending

    async def _end(self, reason: str, notify: bool) -> None:
        if self._audio_task is not None:  # hear out what the caller already sent
            self._enqueue(None)
            try:
                await asyncio.wait_for(self._audio_task, AUDIO_DRAIN_SECONDS)
            except TimeoutError:
                logger.warning("call %s: caller audio still queued was dropped", self.call_id)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._agent_turns.finish()
        if notify:  # the caller need not wait while the last words are transcribed and stored
            await self._outbox.send_json({"type": "ended", "reason": reason})
            await self._outbox.close()
        if self._caller_turns is not None:
            self._decoder.close()
            drain = SHUTDOWN_DRAIN_SECONDS if reason == "server_shutdown" else DRAIN_SECONDS
            try:
                await asyncio.wait_for(self._caller_turns.close(), drain)
            except TimeoutError:
                logger.warning("call %s: speech still being transcribed was dropped", self.call_id)
        await self.transcript.close()
        await tenant_run(
            self._tenant, call_end, call_id=self.call_id, reason=reason, metrics=self._metrics()
        )
        for cleanup in self._cleanups:
            await cleanup()

    def _metrics(self) -> dict:
        metrics = {
            "duration_ms": self.clock.ms(),
            "entries": len(self.transcript.entries),
            "interruptions": self._interruptions,
            "caller_frames_dropped": self._frames_dropped,
        }
        if self._voice is not None:
            metrics["uplink_latency"] = self._voice.uplink_latency.summary()
            metrics["downlink_latency"] = self._voice.downlink_latency.summary()
        return metrics


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("task %s failed", task.get_name(), exc_info=task.exception())
