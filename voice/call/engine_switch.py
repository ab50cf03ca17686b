"""Which voice engine serves a call: the persona's own, or the fallback while it cannot.

The persona's engine runs for the whole call and retries by itself while it cannot serve. When
it reports that it cannot (busy, unreachable, dropped), the fallback engine (the cascade) takes
over the caller's audio until the persona's engine is ready again; without a fallback the call
moves to text (`VoiceEvents`). Each engine reports through its own `_Reports`, so the call acts
only on what the serving engine says; the caller's audio goes to the serving engine, or to the
persona's engine while none serves (it hears the caller even while it connects).
"""

import asyncio
from collections.abc import Callable

import numpy as np

from voice.audio.base import CallerAudio
from voice.call.background import background_task
from voice.call.protocol import ModeReason
from voice.call.voice_events import VoiceEvents
from voice.engines.base import EngineListener, EngineName, VoiceEngine

EngineFactory = Callable[[EngineListener], VoiceEngine]


class EngineSwitch:
    def __init__(
        self, *, events: VoiceEvents, engine: EngineFactory, fallback: EngineFactory | None
    ) -> None:
        self._events = events
        self._primary = self._build(engine)
        self._fallback_factory = fallback
        self._fallback: VoiceEngine | None = None
        self._fallback_task: asyncio.Task | None = None
        self._serving: VoiceEngine | None = None
        self._moved_because: ModeReason | None = None  # why the next engine ready is a move

    @property
    def acts(self) -> bool:
        """Whether the engine serving now answers the caller itself."""
        return self._serving is not None and self._serving.acts

    async def run(self) -> None:
        """Serve until cancelled; the fallback, when it runs, is stopped with it."""
        try:
            await self._primary.run()
        finally:
            await self._stop_fallback()

    async def caller_audio(self, audio: CallerAudio, *, received_at: float) -> None:
        engine = self._serving or self._primary
        await engine.caller_audio(audio, received_at=received_at)

    async def close(self) -> None:
        """Finish hearing what the caller said, on every engine that heard some."""
        await self._primary.close()
        if self._fallback is not None:
            await self._fallback.close()

    def latency(self) -> dict[str, object]:
        figures = self._primary.latency()
        if self._fallback is not None:
            figures |= self._fallback.latency()
        return figures

    async def ready(self, engine: VoiceEngine) -> None:
        if engine is self._primary:
            took_over = self._fallback_task is not None
            await self._stop_fallback()
            reason = ModeReason.RECOVERED if took_over else None
        else:
            reason = self._moved_because
        self._serving, self._moved_because = engine, None
        await self._events.ready(engine.name, moved_because=reason)

    async def unavailable(self, engine: VoiceEngine, reason: ModeReason) -> None:
        if engine is not self._primary:
            return  # the fallback runs on its own
        if self._serving is not None and self._serving is not self._primary:
            return  # the fallback serves meanwhile; the persona's engine is retrying
        self._serving = None
        await self._events.agent_stopped()
        if self._fallback_factory is None:
            await self._events.unavailable(reason)
            return
        if self._fallback_task is None:
            self._moved_because = reason
            self._fallback = self._fallback or self._build(self._fallback_factory)
            self._fallback_task = background_task(self._fallback.run(), "voice-fallback")

    def _build(self, factory: EngineFactory) -> VoiceEngine:
        reports = _Reports(self, self._events)
        reports.engine = factory(reports)
        return reports.engine

    def serves(self, engine: VoiceEngine | None) -> bool:
        """Whether `engine`'s reports are the call's: it serves, or none does and it is the
        persona's own (its caller turns while it connects)."""
        return engine is self._serving or (self._serving is None and engine is self._primary)

    async def _stop_fallback(self) -> None:
        task, self._fallback_task = self._fallback_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await self._events.agent_stopped()


class _Reports:
    """One engine's `EngineListener`: its reports reach the call while it serves."""

    def __init__(self, switch: EngineSwitch, events: VoiceEvents) -> None:
        self._switch = switch
        self._events = events
        self.engine: VoiceEngine | None = None

    @property
    def _engine(self) -> VoiceEngine:
        assert self.engine is not None, "an engine reports only once it is built"
        return self.engine

    @property
    def _heard(self) -> bool:
        return self._switch.serves(self.engine)

    async def ready(self, engine: EngineName) -> None:
        await self._switch.ready(self._engine)

    async def unavailable(self, reason: ModeReason) -> None:
        await self._switch.unavailable(self._engine, reason)

    async def agent_audio(self, pcm: np.ndarray) -> None:
        if self._heard:
            await self._events.agent_audio(pcm)

    async def agent_text(self, piece: str) -> None:
        if self._heard:
            await self._events.agent_text(piece)

    async def agent_turn_end(self) -> None:
        if self._heard:
            await self._events.agent_stopped()

    async def caller_speaking(self) -> bool:
        return self._heard and await self._events.caller_speaking()

    async def interrupted(self) -> None:
        if self._heard:
            await self._events.interrupted()

    async def caller_words(self, text: str, start_ms: int, end_ms: int) -> None:
        if self._heard:
            answered = self._switch.acts  # by the engine reporting it, which serves
            await self._events.caller_words(text, start_ms, end_ms, answered=answered)
