"""The text agent's turns: the greeting, answers in text, and supervision beside the voice.

What the caller types is answered in text, captioned as it streams. What the caller says is
answered in text too while the call is in text mode; in voice mode the voice model answers the
caller itself, and the text agent only supervises: it calls tools, whose results reach the
caller as cards. One answer at a time; when a tool asked to end the call (`end_call`), the call
ends once that answer is given.
"""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from voice.agent.base import Agent, AgentProfile, ToolRunner
from voice.call.background import background_task
from voice.call.clock import CallClock
from voice.call.mode import ServingMode
from voice.call.transcript import FinalEntry, TranscriptRecorder
from voice.models import CallMode, EndReason


class Replies:
    def __init__(
        self,
        *,
        call_id: str,
        agent: Agent,
        profile: AgentProfile,
        tools: ToolRunner,
        transcript: TranscriptRecorder,
        clock: CallClock,
        mode: ServingMode,
        end_call: Callable[[EndReason], None],
    ) -> None:
        self._call_id = call_id
        self._agent = agent
        self._profile = profile
        self._tools = tools
        self._transcript = transcript
        self._clock = clock
        self._mode = mode
        self._end_call = end_call
        self._replying = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []

    async def greet(self) -> None:
        """Open the conversation in text, unless the agent has already spoken."""
        spoken = any(entry.role == "agent" for entry in self._transcript.entries)
        if spoken or not self._profile.greeting:
            return
        now = self._clock.ms()
        await self._transcript.final(FinalEntry("agent", self._profile.greeting, now, now))

    async def say(self, text: str) -> None:
        """The agent says `text` (a closing line of the call's own): a final agent entry."""
        now = self._clock.ms()
        await self._transcript.final(FinalEntry("agent", text, now, now))

    async def caller_typed(self, text: str) -> None:
        now = self._clock.ms()
        await self._transcript.final(FinalEntry("caller", text, now, now))
        self._spawn(self._reply(spoken=False))

    async def caller_said(self, text: str, start_ms: int, end_ms: int) -> None:
        """The caller said `text`: answered in text, or supervised beside the voice."""
        await self.caller_heard(text, start_ms, end_ms)
        self._spawn(self._reply(spoken=self._mode.mode == CallMode.VOICE))

    async def caller_heard(self, text: str, start_ms: int, end_ms: int) -> None:
        """The caller said `text`, answered by the voice engine itself: only stored."""
        await self._transcript.final(FinalEntry("caller", text, start_ms, end_ms))

    async def close(self) -> None:
        """Stop answering: cancel the answers still being made."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, reply: Coroutine[Any, Any, None]) -> None:
        """Answer beside the socket loop; kept, and cancelled when the call ends."""
        self._tasks = [task for task in self._tasks if not task.done()]
        self._tasks.append(background_task(reply, f"reply-{self._call_id}"))

    async def _reply(self, *, spoken: bool) -> None:
        """Answer the conversation so far; when `spoken`, supervise only (no text answer)."""
        async with self._replying:
            history = self._transcript.turns()
            started = self._clock.ms()
            entry_id = self._transcript.new_id()

            async def caption(text: str) -> None:
                await self._transcript.caption(entry_id, "agent", text)

            reply = await self._agent.reply(
                profile=self._profile,
                history=history,
                tools=self._tools,
                on_partial=None if spoken else caption,
            )
            if not spoken:
                entry = FinalEntry("agent", reply.text, started, self._clock.ms())
                await self._transcript.final(entry, entry_id)
        if any(outcome.ends_call for outcome in reply.tool_outcomes):
            self._end_call(EndReason.AGENT_ENDED)
