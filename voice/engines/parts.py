"""What a call's voice engines are made of, and the engine of each name, built for the call.

The call gives the persona, how it hears its caller, its tools, its conversation so far and how
to end it; settings give the rest (sidecars, the agent, speech providers, Gemini). An engine that
cannot run here (PersonaPlex with no sidecar configured, Gemini Live without a key) is built as
unavailable, so the call's fallback serves instead, and says why.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from redis.asyncio import Redis

from voice.agent.base import ToolRunner, Turn
from voice.agent.providers import agent_for
from voice.call.caller_turns import CallerTurns, Hearing
from voice.call.protocol import DEFAULT_FRAME_MS, ModeReason
from voice.engines.base import EngineListener, EngineName, EnginePersona, VoiceEngine
from voice.engines.cascade import CascadeEngine
from voice.engines.personaplex import PersonaPlexEngine, SidecarSettings
from voice.engines.unavailable import UnavailableEngine
from voice.engines.voices import voice_find, voice_of_kind
from voice.models import EndReason
from voice.sidecar.pool import SidecarEntry, SidecarPool
from voice.speech.tts import text_to_speech


def sidecar_settings() -> SidecarSettings:
    return SidecarSettings(
        entries=tuple(SidecarEntry.parse(entry) for entry in settings.PERSONAPLEX_URLS),
        handshake_timeout=settings.PERSONAPLEX_HANDSHAKE_TIMEOUT,
        ca_file=settings.PERSONAPLEX_CA_FILE,
        retry_initial=settings.PERSONAPLEX_RETRY_INITIAL,
        retry_max=settings.PERSONAPLEX_RETRY_MAX,
        loading_grace=settings.PERSONAPLEX_LOADING_GRACE,
    )


@dataclass
class EngineParts:
    persona: EnginePersona
    hearing: Hearing
    tools: ToolRunner
    history: Callable[[], list[Turn]]
    end_call: Callable[[EndReason], None]
    frame_ms: int = DEFAULT_FRAME_MS  # the caller's audio frames (the `frame_ms` it declared)
    _redis: list[Redis] = field(default_factory=list)  # the sidecar pool's, once built

    def build(self, name: EngineName, listener: EngineListener) -> VoiceEngine:
        if name == EngineName.PERSONAPLEX:
            return self._personaplex(listener)
        if name == EngineName.GEMINI_LIVE:
            return self._gemini_live(listener)
        return self._cascade(listener)

    async def aclose(self) -> None:
        for redis in self._redis:
            await redis.aclose()

    def _personaplex(self, listener: EngineListener) -> VoiceEngine:
        sidecars = sidecar_settings()
        if not sidecars.entries:
            return self._unavailable(
                EngineName.PERSONAPLEX, ModeReason.SIDECAR_UNAVAILABLE, listener
            )
        redis = Redis.from_url(settings.REDIS_URL)
        self._redis.append(redis)
        return PersonaPlexEngine(
            persona=self.persona,
            pool=SidecarPool(redis, list(sidecars.entries), ttl_seconds=sidecars.lease_ttl),
            settings=sidecars,
            listener=listener,
            caller_turns=self._caller_turns(listener),
            frame_ms=self.frame_ms,
        )

    def _gemini_live(self, listener: EngineListener) -> VoiceEngine:
        if not settings.GEMINI_API_KEY:
            return self._unavailable(
                EngineName.GEMINI_LIVE, ModeReason.ENGINE_UNAVAILABLE, listener
            )
        # Imported here: only a process that uses Gemini Live pays for it.
        from voice.agent.gemini_client import gemini_config_from_settings
        from voice.engines.gemini_live import GeminiLiveEngine
        from voice.engines.gemini_live_caller import CallerVoice

        return GeminiLiveEngine(
            persona=self.persona,
            tools=self.tools,
            listener=listener,
            caller=CallerVoice(self.hearing.clock, self.hearing.detector()),
            config=gemini_config_from_settings(),
            model=settings.GEMINI_LIVE_MODEL,
            history=self.history,
            end_call=self.end_call,
        )

    def _cascade(self, listener: EngineListener) -> VoiceEngine:
        voice = voice_find(
            EngineName.CASCADE, voice_of_kind(EngineName.CASCADE, self.persona.voice_id)
        )
        assert voice is not None, "voice_of_kind names one of the engine's voices"
        return CascadeEngine(
            persona=self.persona,
            voice=voice,
            listener=listener,
            hearing=self.hearing,
            agent=agent_for(settings.NEXUS_AGENT),
            tools=self.tools,
            tts=text_to_speech(settings.NEXUS_TEXT_TO_SPEECH),
            history=self.history,
            end_call=self.end_call,
        )

    def _unavailable(
        self, name: EngineName, reason: ModeReason, listener: EngineListener
    ) -> VoiceEngine:
        return UnavailableEngine(name, reason, listener, self._caller_turns(listener))

    def _caller_turns(self, listener: EngineListener) -> CallerTurns:
        """The call's speech-to-text, for an engine that does not hear the caller itself."""
        return self.hearing.turns(
            on_speech_start=listener.caller_speaking, on_utterance=listener.caller_words
        )
