"""One live call: its stages, started together and ended once, whatever path leads there.

The stages are built and wired by `voice.call.factory`: caller audio in (`CallerAudioIn`), the
voice engine serving the call (`EngineSwitch`, whose engines report to `VoiceEvents`), barge-in
(`BargeIn`), the agent's voiced turns (`AgentTurns`), the text agent's turns (`Replies`) and the
transcript (`TranscriptRecorder`). A stage that needs
the call to end (sustained bad audio, the agent's goodbye) asks through the `EndRequest`;
`end()` stops every task, keeps what was said, and closes the call row with its end reason.
The tenant's staff are told when the call starts and ends (`CallMonitor`).
"""

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from nexus_project.metrics import (
    CALL_DURATION,
    CALLS_ACTIVE,
    CALLS_ENDED,
    CALLS_STARTED,
    tenant_label,
)
from tenants_app.db import schema_run_patiently
from voice.call.agent_turns import AgentTurns
from voice.call.background import background_task
from voice.call.barge_in import BargeIn
from voice.call.caller_audio import CallerAudioIn
from voice.call.clock import CallClock
from voice.call.ending import EndRequest, live_calls
from voice.call.engine_switch import EngineSwitch
from voice.call.limits import CallTimers
from voice.call.protocol import Message, ended_message
from voice.call.replies import Replies
from voice.call.transcript import TranscriptRecorder
from voice.models import EndReason
from voice.monitor.publisher import CallMonitor
from voice.services import call_end

logger = logging.getLogger(__name__)

DRAIN_SECONDS = 15.0  # at the end, how long the last words may take to transcribe
SHUTDOWN_DRAIN_SECONDS = 1.0  # less when the server stops: the call must be closed first
STORE_SECONDS = 30.0  # how long closing the call's row may wait for the database


Cleanup = Callable[[], Awaitable[None]]  # run when the call has ended, after everything else


@dataclass(frozen=True)
class Outbox:
    """How the call talks to its caller (the consumer's socket)."""

    send_json: Callable[[Message], Awaitable[None]]
    send_bytes: Callable[[bytes], Awaitable[None]]
    close: Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class VoiceStages:
    """The stages of a call in voice mode (a text-mode call has none)."""

    caller_audio: CallerAudioIn
    engines: EngineSwitch
    barge_in: BargeIn


class CallSession:
    """One live call; every one this process serves is in `live_calls` until it has ended."""

    def __init__(
        self,
        *,
        call_id: str,
        schema_name: str,
        outbox: Outbox,
        clock: CallClock,
        transcript: TranscriptRecorder,
        agent_turns: AgentTurns,
        replies: Replies,
        timers: CallTimers,
        end_request: EndRequest,
        voice: VoiceStages | None,
        monitor: CallMonitor,
        cleanups: Sequence[Cleanup] = (),
    ) -> None:
        self.call_id = call_id
        self._schema_name = schema_name
        self._outbox = outbox
        self._clock = clock
        self._transcript = transcript
        self._agent_turns = agent_turns
        self._replies = replies
        self._timers = timers
        self._end_request = end_request
        self._voice = voice
        self._monitor = monitor
        self._cleanups = cleanups
        # The context the call was opened in (its log fields): its ending runs in it, even when
        # a server stopping ends it from elsewhere.
        self._context = contextvars.copy_context()
        self._tasks: list[asyncio.Task] = []
        self._ending: asyncio.Task | None = None

    async def start(self) -> None:
        """Start serving: the voice engines in the background, or the text agent's greeting."""
        live_calls.add(self)
        self._monitor.started()
        tenant = tenant_label(self._schema_name)
        CALLS_ACTIVE.labels(tenant).inc()
        CALLS_STARTED.labels(tenant, "text" if self._voice is None else "voice").inc()
        self._tasks.append(background_task(self._end_when_asked(), f"end-{self.call_id}"))
        self._tasks.append(background_task(self._timers.run(), f"timers-{self.call_id}"))
        if self._voice is None:
            await self._replies.greet()
            return
        self._voice.caller_audio.start()
        self._tasks.append(background_task(self._voice.engines.run(), f"voice-{self.call_id}"))

    def caller_audio(self, data: bytes, received_at: float) -> bool:
        """A frame of caller audio, received at `received_at` (`time.perf_counter()`): queued, to
        be decoded and heard in order; False in text mode."""
        if self._voice is None:
            return False
        self._voice.caller_audio.put(data, received_at)
        return True

    async def caller_text(self, text: str) -> None:
        self._timers.caller_active()
        await self._replies.caller_typed(text)

    async def hang_up(self) -> None:
        """The caller hung up: the audio still queued is dropped, not heard first; `ended`."""
        if self._voice is not None:
            self._voice.caller_audio.drop_queued()
        await self.end(EndReason.CALLER_HANGUP, notify=True)

    async def end(self, reason: EndReason, *, notify: bool = False) -> None:
        """End the call once: stop every task, keep what was said, store the end reason.

        The ending runs in its own task, shielded: if whoever awaits it is cancelled (a server
        shutting down), the call is still closed, and a second `end()` waits for the first.
        `notify`: tell the caller (`ended`) and close the socket.
        """
        if self._ending is None:
            self._ending = asyncio.create_task(
                self._end(reason, notify), name=f"end-{self.call_id}", context=self._context
            )
        await asyncio.shield(self._ending)

    async def _end_when_asked(self) -> None:
        await self.end(await self._end_request.wait(), notify=True)

    async def _end(self, reason: EndReason, notify: bool) -> None:
        try:
            # The voice engines first: a sidecar is free for the next caller at once.
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            if self._voice is not None:  # hear out what the caller already sent
                await self._voice.caller_audio.close()
            await self._replies.close()
            await self._agent_turns.finish()
            if notify:  # the caller need not wait while the last words are transcribed
                await self._outbox.send_json(ended_message(reason))
                await self._outbox.close()
            if self._voice is not None:
                await self._transcribe_the_rest(self._voice.engines, reason)
            await self._transcript.close()
            closing = schema_run_patiently(
                self._schema_name,
                call_end,
                call_id=self.call_id,
                reason=reason,
                metrics=self._metrics(),
            )
            await asyncio.wait_for(closing, STORE_SECONDS)
            logger.info("call ended: %s", reason)
        finally:
            self._monitor.ended(reason=reason)
            for cleanup in self._cleanups:
                try:
                    await cleanup()
                except Exception:
                    logger.exception("call %s: a cleanup failed", self.call_id)
            await self._monitor.close()
            tenant = tenant_label(self._schema_name)
            CALLS_ACTIVE.labels(tenant).dec()
            CALLS_ENDED.labels(tenant, reason).inc()
            CALL_DURATION.labels(tenant).observe(self._clock.ms() / 1000)
            live_calls.discard(self)  # only now: a server stopping waits for calls still ending

    async def _transcribe_the_rest(self, engines: EngineSwitch, reason: EndReason) -> None:
        drain = SHUTDOWN_DRAIN_SECONDS if reason == EndReason.SERVER_SHUTDOWN else DRAIN_SECONDS
        try:
            await asyncio.wait_for(engines.close(), drain)
        except TimeoutError:
            logger.warning("call %s: speech still being transcribed was dropped", self.call_id)

    def _metrics(self) -> dict[str, Any]:
        voice = self._voice
        metrics: dict[str, Any] = {
            "duration_ms": self._clock.ms(),
            "entries": len(self._transcript.entries),
            "interruptions": voice.barge_in.count if voice else 0,
            "caller_frames_dropped": voice.caller_audio.frames_dropped if voice else 0,
            "transcript_entries_dropped": self._transcript.dropped,
        }
        if voice is not None:
            metrics |= voice.engines.latency()
        return metrics
