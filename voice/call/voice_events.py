"""What the call's voice engines report, acted on: ready, unavailable, the agent's audio and
words, the caller's speech and words, barge-in.

The agent's audio goes to the caller in the caller's `out` format and its words become live
captions, both through barge-in's gate (an interrupted turn is muted). A move from one engine to
another is told to the caller (`mode`, with the engine now serving and why). When no engine can
serve, the call moves to text and the text agent greets, unless the agent has spoken already;
when voice comes back, the call moves back (`recovered`) and the caller is told it is heard
(`ready`). The caller's words are stored; the text agent answers them unless the serving engine
did (in text mode: in text; beside PersonaPlex: as its supervisor, with tools).
"""

from collections.abc import Awaitable, Callable

import numpy as np

from voice.audio.base import AudioEncoder
from voice.call.agent_turns import AgentTurns
from voice.call.barge_in import BargeIn
from voice.call.limits import CallTimers
from voice.call.mode import ServingMode
from voice.call.protocol import Message, ModeReason, ready_message
from voice.call.replies import Replies
from voice.engines.base import EngineName
from voice.models import CallMode
from voice.recording.recorder import CallRecorder


class VoiceEvents:
    def __init__(
        self,
        *,
        mode: ServingMode,
        send_json: Callable[[Message], Awaitable[None]],
        send_bytes: Callable[[bytes], Awaitable[None]],
        encoder: AudioEncoder,
        barge_in: BargeIn,
        agent_turns: AgentTurns,
        replies: Replies,
        timers: CallTimers,
        recorder: CallRecorder | None = None,
    ) -> None:
        self._mode = mode
        self._send_json = send_json
        self._send_bytes = send_bytes
        self._encoder = encoder
        self._barge_in = barge_in
        self._agent_turns = agent_turns
        self._replies = replies
        self._timers = timers
        self._recorder = recorder

    async def ready(self, engine: EngineName, *, moved_because: ModeReason | None) -> None:
        """`engine` serves now; `moved_because`: it took over from another engine, for this."""
        if self._mode.mode == CallMode.TEXT:
            await self._mode.switch(CallMode.VOICE, ModeReason.RECOVERED, engine)
        elif moved_because is not None:
            await self._mode.switch(CallMode.VOICE, moved_because, engine)
        await self._send_json(ready_message())

    async def unavailable(self, reason: ModeReason) -> None:
        """No engine can serve: the call goes on in text."""
        await self._agent_turns.finish()
        if self._mode.mode == CallMode.VOICE:
            await self._mode.switch(CallMode.TEXT, reason)
            await self._replies.greet()

    async def agent_audio(self, pcm: np.ndarray) -> None:
        if self._barge_in.admits_agent_audio(pcm):
            if self._recorder is not None:
                self._recorder.agent_audio(pcm)
            for message in self._encoder.encode(pcm):
                await self._send_bytes(message)

    async def agent_text(self, piece: str) -> None:
        if self._barge_in.admits_agent_words():
            await self._agent_turns.piece(piece)

    async def agent_stopped(self) -> None:
        """The agent's turn is over (it ended, or its engine stopped): it becomes final."""
        await self._agent_turns.finish()

    async def caller_speaking(self) -> bool:
        self._timers.caller_active()
        barged_in = await self._barge_in.caller_started_speaking()
        if barged_in and self._recorder is not None:
            self._recorder.agent_cut()
        return barged_in

    async def interrupted(self) -> None:
        await self._barge_in.engine_interrupted()
        if self._recorder is not None:
            self._recorder.agent_cut()

    async def caller_words(self, text: str, start_ms: int, end_ms: int, *, answered: bool) -> None:
        self._timers.caller_active()
        if answered:
            await self._replies.caller_heard(text, start_ms, end_ms)
        else:
            await self._replies.caller_said(text, start_ms, end_ms)
