"""What the voice path tells a call, acted on: ready, unavailable, the agent's audio and words.

The agent's audio goes to the caller in the caller's `out` format and its words become live
captions, both through barge-in's gate (an interrupted turn is muted). When voice is lost the
call moves to text and the text agent greets, unless the agent has spoken already; when voice
comes back, the call moves back (`recovered`) and the caller is told it is heard (`ready`).
"""

from collections.abc import Awaitable, Callable

import numpy as np

from voice.audio.base import AudioEncoder
from voice.call.agent_turns import AgentTurns
from voice.call.barge_in import BargeIn
from voice.call.mode import ServingMode
from voice.call.protocol import Message, ModeReason, ready_message
from voice.call.replies import Replies
from voice.models import CallMode


class VoiceEvents:
    """The call's `VoicePathListener`."""

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
    ) -> None:
        self._mode = mode
        self._send_json = send_json
        self._send_bytes = send_bytes
        self._encoder = encoder
        self._barge_in = barge_in
        self._agent_turns = agent_turns
        self._replies = replies

    async def ready(self) -> None:
        if self._mode.mode == CallMode.TEXT:
            await self._mode.switch(CallMode.VOICE, ModeReason.RECOVERED)
        await self._send_json(ready_message())

    async def unavailable(self, reason: ModeReason) -> None:
        await self._agent_turns.finish()
        if self._mode.mode == CallMode.VOICE:
            await self._mode.switch(CallMode.TEXT, reason)
            await self._replies.greet()

    async def agent_audio(self, pcm: np.ndarray) -> None:
        if self._barge_in.admits_agent_audio(pcm):
            for message in self._encoder.encode(pcm):
                await self._send_bytes(message)

    async def agent_text(self, piece: str) -> None:
        if self._barge_in.admits_agent_words():
            await self._agent_turns.piece(piece)
