"""Builds a call's stages from its access and the settings, and wires them into a session.

Each stage gets only what it talks to: the outbox to the caller, the transcript, the stages it
hands its output to. A text-mode call has the transcript, the text agent and its tools; a voice
call adds caller audio in, the caller's turns, barge-in and, when sidecars are configured, the
voice path.
"""

from functools import partial

import numpy as np
from django.conf import settings
from redis.asyncio import Redis

from tools_registry.slow import SlowTools
from voice.agent.providers import agent_for
from voice.audio.formats import caller_decoder, caller_encoder
from voice.call.access import CallAccess
from voice.call.agent_turns import AgentTurns
from voice.call.barge_in import BargeIn, caller_speech_detector
from voice.call.caller_audio import CallerAudioIn
from voice.call.caller_turns import CallerTurns
from voice.call.client_limits import client_call_release
from voice.call.clock import CallClock
from voice.call.ending import EndRequest
from voice.call.limits import CallTimers
from voice.call.mode import ServingMode
from voice.call.protocol import CallParams
from voice.call.replies import Replies
from voice.call.session import CallSession, Cleanup, Outbox, VoiceStages
from voice.call.tools import CallToolRunner, tool_reports
from voice.call.transcript import TranscriptRecorder
from voice.call.voice_events import VoiceEvents
from voice.call.voice_path import SidecarSettings, VoicePath, VoicePathListener
from voice.models import CallMode
from voice.prompt import persona_prompt_build
from voice.sidecar.pool import SidecarPool
from voice.speech.stt import SpeechContext, speech_to_text
from voice.speech.vocabulary import speech_phrases


def sidecar_settings() -> SidecarSettings:
    return SidecarSettings(
        urls=tuple(settings.PERSONAPLEX_URLS),
        handshake_timeout=settings.PERSONAPLEX_HANDSHAKE_TIMEOUT,
        ca_file=settings.PERSONAPLEX_CA_FILE,
        retry_initial=settings.PERSONAPLEX_RETRY_INITIAL,
        retry_max=settings.PERSONAPLEX_RETRY_MAX,
        loading_grace=settings.PERSONAPLEX_LOADING_GRACE,
    )


def call_session_create(
    *,
    call_id: str,
    access: CallAccess,
    params: CallParams,
    client_address: str,
    outbox: Outbox,
    slow_tools: SlowTools,
) -> CallSession:
    schema_name = access.tenant.schema_name
    clock = CallClock()
    transcript = TranscriptRecorder(
        schema_name=schema_name, call_id=call_id, send_json=outbox.send_json
    )
    agent_turns = AgentTurns(transcript=transcript, clock=clock)
    end_request = EndRequest()
    tools = CallToolRunner(
        schema_name=schema_name,
        call_id=call_id,
        persona_id=access.agent.persona_id,
        enabled=dict(access.agent.tools),
        timezone=access.tenant.timezone,
        slow_tools=slow_tools,
        report=tool_reports(send_json=outbox.send_json, transcript=transcript, clock=clock),
    )
    mode = ServingMode(
        schema_name=schema_name, call_id=call_id, mode=params.mode, send_json=outbox.send_json
    )
    replies = Replies(
        call_id=call_id,
        agent=agent_for(settings.NEXUS_AGENT),
        profile=access.agent.profile(business=access.tenant.name, timezone=access.tenant.timezone),
        tools=tools,
        transcript=transcript,
        clock=clock,
        mode=mode,
        end_call=end_request,
    )
    timers = CallTimers(
        idle_seconds=access.tenant.call_idle_timeout_seconds,
        max_seconds=access.tenant.call_max_duration_seconds,
        say=replies.say,
        end_call=end_request,
    )
    voice: VoiceStages | None = None
    cleanups: list[Cleanup] = [
        partial(client_call_release, schema_name=schema_name, address=client_address)
    ]
    if params.mode == CallMode.VOICE:
        voice, voice_cleanups = _voice_stages(
            call_id=call_id,
            access=access,
            params=params,
            outbox=outbox,
            clock=clock,
            agent_turns=agent_turns,
            mode=mode,
            replies=replies,
            timers=timers,
            speech=SpeechContext(
                language=access.agent.language,
                phrases=speech_phrases(
                    agent_name=access.agent.name,
                    business=access.tenant.name,
                    knowledge=access.agent.knowledge,
                    tools=tools.specs,
                ),
            ),
            end_request=end_request,
        )
        cleanups += voice_cleanups
    return CallSession(
        call_id=call_id,
        schema_name=schema_name,
        outbox=outbox,
        clock=clock,
        transcript=transcript,
        agent_turns=agent_turns,
        replies=replies,
        timers=timers,
        end_request=end_request,
        voice=voice,
        cleanups=cleanups,
    )


def _voice_stages(
    *,
    call_id: str,
    access: CallAccess,
    params: CallParams,
    outbox: Outbox,
    clock: CallClock,
    agent_turns: AgentTurns,
    mode: ServingMode,
    replies: Replies,
    timers: CallTimers,
    speech: SpeechContext,
    end_request: EndRequest,
) -> tuple[VoiceStages, list[Cleanup]]:
    """The stages a voice call adds, and what to close when it ends."""
    barge_in = BargeIn(send_json=outbox.send_json, agent_turns=agent_turns)
    events = VoiceEvents(
        mode=mode,
        send_json=outbox.send_json,
        send_bytes=outbox.send_bytes,
        encoder=caller_encoder(params.out),
        barge_in=barge_in,
        agent_turns=agent_turns,
        replies=replies,
    )
    path: VoicePath | None = None
    cleanups: list[Cleanup] = []
    if settings.PERSONAPLEX_URLS:
        redis = Redis.from_url(settings.REDIS_URL)
        path = _voice_path(call_id=call_id, access=access, redis=redis, listener=events)
        cleanups.append(redis.aclose)

    async def caller_started_speaking() -> None:
        timers.caller_active()
        await barge_in.caller_started_speaking()

    caller_turns = CallerTurns(
        detector=caller_speech_detector(),
        stt=speech_to_text(settings.NEXUS_SPEECH_TO_TEXT),
        speech=speech,
        clock=clock,
        on_speech_start=caller_started_speaking,
        on_utterance=replies.caller_said,
    )

    async def hear(pcm: np.ndarray, received_at: float) -> None:
        if path is not None:
            await path.caller_audio(pcm, received_at=received_at)
        await caller_turns.audio(pcm)

    caller_audio = CallerAudioIn(
        call_id=call_id,
        decoder=caller_decoder(params.format, params.rate),
        hear=hear,
        send_json=outbox.send_json,
        end_call=end_request,
    )
    return VoiceStages(caller_audio, caller_turns, barge_in, events, path), cleanups


def _voice_path(
    *, call_id: str, access: CallAccess, redis: Redis, listener: VoicePathListener
) -> VoicePath:
    sidecars = sidecar_settings()
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
        listener=listener,
    )
