"""Builds a call's session from the settings: its text agent, speech-to-text and voice path."""

from django.conf import settings
from redis.asyncio import Redis

from tools_registry.runner import CallToolRunner
from tools_registry.slow import SlowTools
from voice.agent.offline import agent_for
from voice.call.access import CallAccess
from voice.call.protocol import CallParams
from voice.call.session import CallSession, Outbox
from voice.call.voice_path import SidecarSettings, VoicePath, VoicePathListener
from voice.prompt import persona_prompt_build
from voice.sidecar.pool import SidecarPool
from voice.speech.stt import speech_to_text


def sidecar_settings() -> SidecarSettings:
    return SidecarSettings(
        urls=tuple(settings.PERSONAPLEX_URLS),
        handshake_timeout=settings.PERSONAPLEX_HANDSHAKE_TIMEOUT,
        ca_file=settings.PERSONAPLEX_CA_FILE,
        retry_initial=settings.PERSONAPLEX_RETRY_INITIAL,
        retry_max=settings.PERSONAPLEX_RETRY_MAX,
    )


def call_session_create(
    *, call_id: str, access: CallAccess, params: CallParams, outbox: Outbox, slow_tools: SlowTools
) -> CallSession:
    sidecars = sidecar_settings()
    redis = Redis.from_url(settings.REDIS_URL)

    def voice_path(session: CallSession) -> VoicePath:
        prompt = persona_prompt_build(
            system_prompt=access.agent.system_prompt,
            greeting=access.agent.greeting,
            knowledge=access.agent.knowledge,
        )
        return VoicePath(
            call_id=call_id,
            voice_id=access.agent.voice_id,
            text_prompt=prompt.text,
            pool=SidecarPool(redis, list(sidecars.urls), ttl_seconds=sidecars.lease_ttl),
            settings=sidecars,
            listener=VoicePathListener(
                ready=session.voice_ready,
                unavailable=session.voice_unavailable,
                agent_audio=session.agent_audio,
                agent_text=session.agent_text,
            ),
        )

    def tools(session: CallSession) -> CallToolRunner:
        return CallToolRunner(
            schema_name=access.tenant.schema_name,
            call_id=call_id,
            persona_id=access.agent.persona_id,
            enabled=dict(access.agent.tools),
            slow_tools=slow_tools,
            report=session.tool_report,
            on_end_call=session.agent_ends_call,
        )

    session = CallSession(
        call_id=call_id,
        tenant=access.tenant,
        agent=access.agent,
        params=params,
        outbox=outbox,
        brain=agent_for(settings.NEXUS_AGENT),
        stt=speech_to_text(settings.NEXUS_SPEECH_TO_TEXT),
        voice_path=voice_path if sidecars.urls else None,
        tools=tools,
    )
    session.on_end(redis.aclose)
    return session
