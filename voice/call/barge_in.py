"""Barge-in: when the caller's speech interrupts the agent, and what is muted afterwards.

Every input to the decision is here:
- the caller's speech onset, from a voice-activity detector whose energy floor
  (`CALLER_SPEECH_FLOOR_DBFS`) keeps the agent's own voice out: a browser's echo canceller
  leaves it about 20 dB down, below the floor, so it neither barges in nor gets transcribed;
- whether the agent is audible right now: its decoded audio above `AGENT_AUDIBLE_DBFS` within
  the last `AGENT_AUDIBLE_HOLD_SECONDS` (PersonaPlex sends pages all the time, silence included,
  so arriving audio alone does not mean the agent speaks).

The caller starting to speak while the agent is audible is a barge-in: the caller is told
(`interrupt`: drop what is buffered), the agent's turn is stored as interrupted, and the rest of
that turn is muted, audio and words, until the agent falls quiet.
"""

import time
from collections.abc import Awaitable, Callable

import numpy as np

from nexus_project.metrics import BARGE_INS, tenant_label
from voice.audio.base import PCM_RATE, level_dbfs
from voice.call.agent_turns import AgentTurns
from voice.call.protocol import Message, interrupt_message
from voice.speech.vad import VoiceActivityDetector

CALLER_SPEECH_FLOOR_DBFS = -35.0
AGENT_AUDIBLE_DBFS = -45.0
AGENT_AUDIBLE_HOLD_SECONDS = 0.3


def caller_speech_detector(rate: int = PCM_RATE) -> VoiceActivityDetector:
    """The detector of the caller's speech (`CallerAudio.speech`, at `rate`): turn cutting and
    barge-in onsets alike."""
    return VoiceActivityDetector(rate=rate, min_dbfs=CALLER_SPEECH_FLOOR_DBFS)


class BargeIn:
    def __init__(
        self,
        *,
        send_json: Callable[[Message], Awaitable[None]],
        agent_turns: AgentTurns,
        tenant: str,
    ) -> None:
        self._send_json = send_json
        self._tenant = tenant
        self._agent_turns = agent_turns
        self._audible_until = 0.0
        self._muted = False
        self.count = 0  # barge-ins in this call

    @property
    def agent_audible(self) -> bool:
        """Whether the agent's voice (not its silence) reached the caller just now."""
        return time.monotonic() < self._audible_until

    async def caller_started_speaking(self) -> bool:
        """The caller's speech began: a barge-in if the agent is audible (then True)."""
        if not self.agent_audible:
            return False
        await self.engine_interrupted()
        return True

    async def engine_interrupted(self) -> None:
        """The caller barged in: the widget drops what it buffered, the turn is interrupted,
        and the rest of it is muted."""
        self._muted = True
        self.count += 1
        BARGE_INS.labels(tenant_label(self._tenant)).inc()
        await self._send_json(interrupt_message())
        await self._agent_turns.finish(interrupted=True)

    def admits_agent_audio(self, pcm: np.ndarray) -> bool:
        """Whether this agent audio goes to the caller (not while an interrupted turn goes on)."""
        self._unmute_when_quiet()
        if len(pcm) and level_dbfs(pcm) > AGENT_AUDIBLE_DBFS:
            self._audible_until = time.monotonic() + AGENT_AUDIBLE_HOLD_SECONDS
        return not self._muted

    def admits_agent_words(self) -> bool:
        """Whether the agent's words are captioned (not those of an interrupted turn)."""
        self._unmute_when_quiet()
        return not self._muted

    def _unmute_when_quiet(self) -> None:
        """An interrupted turn is over once the agent has fallen quiet (whether the engine sends
        silence between turns, as PersonaPlex does, or nothing at all)."""
        if self._muted and not self.agent_audible:
            self._muted = False
