"""The voice-engine interface: what a call's voice engine is given, hears and reports.

A voice engine turns the caller's audio into the agent's voice. The call session talks to every
engine the same way: an engine is built with the persona (`EnginePersona`) and the call's tool
runner, hears the caller's audio (PCM24k) through `caller_audio`, and reports through an
`EngineListener`: ready / unavailable, the agent's audio and words, the caller's words when the
engine transcribes them, the caller starting to speak, and its own barge-in signal. Tool calls
the engine makes go through the call's `ToolRunner`, which records them and shows their cards.
`run()` serves until cancelled, trying again by itself while its service is down.
"""

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from voice.agent.base import AgentProfile
from voice.audio.base import CallerAudio
from voice.call.protocol import ModeReason
from voice.engines.names import EngineName


@dataclass(frozen=True)
class EnginePersona:
    """The persona a call's engine speaks as."""

    call_id: str
    profile: AgentProfile  # name, business, time zone, role, greeting, knowledge
    voice_id: str  # valid for the engine (`voice.engines.voices`)
    language: str  # "en"
    text_prompt: str  # the persona in one prompt (PersonaPlex's text prompt, Live's instruction)


class EngineListener(Protocol):
    """What an engine tells its call."""

    async def ready(self, engine: EngineName) -> None:
        """The engine is serving: caller audio is being heard."""

    async def unavailable(self, reason: ModeReason) -> None:
        """The engine cannot serve now (busy, unreachable, dropped); it retries by itself."""

    async def agent_audio(self, pcm: np.ndarray) -> None:
        """The agent's audio (PCM24k), at the pace it is to be played."""

    async def agent_text(self, piece: str) -> None:
        """A piece of the agent's words, as they are spoken."""

    async def agent_turn_end(self) -> None:
        """The agent finished its turn (engines that know it; others are cut by a gap)."""

    async def caller_speaking(self) -> bool:
        """The caller started to speak; True when that barged in on the agent."""

    async def interrupted(self) -> None:
        """The engine itself stopped the agent for the caller (its own barge-in)."""

    async def caller_words(self, text: str, start_ms: int, end_ms: int) -> None:
        """One turn of the caller's, transcribed (call-clock milliseconds)."""


class VoiceEngine(Protocol):
    name: EngineName
    acts: bool  # answers and calls tools itself; False: the text agent supervises beside it

    async def run(self) -> None:
        """Serve until cancelled: connect, stream, report; when down, say so and try again."""

    async def caller_audio(self, audio: CallerAudio, *, received_at: float) -> None:
        """The caller's audio; `received_at` (`time.perf_counter()`) is when its frame reached
        the call. Ignored while the engine is not serving."""

    async def close(self) -> None:
        """The call is ending: finish hearing what the caller already said, then stop."""

    def latency(self) -> dict[str, object]:
        """Figures for the call's metrics (bridge latency each way, turn latency), if any."""
