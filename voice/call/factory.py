"""Builds a call's stages from its access and the settings, and wires them into a session.

Each stage gets only what it talks to: the outbox to the caller, the transcript, the stages it
hands its output to. A text-mode call has the transcript, the text agent and its tools; a voice
call adds caller audio in, barge-in, and its voice engines: the persona's, and the cascade
while that one cannot serve (`EngineSwitch`).
"""

from functools import partial

from django.conf import settings

from tools_registry.slow import SlowTools
from voice.agent.providers import agent_for
from voice.audio.call_decoder import CallerAudioDecoder
from voice.audio.formats import caller_encoder
from voice.call.access import CallAccess
from voice.call.agent_turns import AgentTurns
from voice.call.barge_in import BargeIn, caller_speech_detector
from voice.call.caller_audio import CallerAudioIn
from voice.call.caller_turns import Hearing
from voice.call.client_limits import client_call_release
from voice.call.clock import CallClock
from voice.call.ending import EndRequest
from voice.call.engine_switch import EngineFactory, EngineSwitch
from voice.call.limits import CallTimers
from voice.call.mode import ServingMode
from voice.call.protocol import CallParams
from voice.call.replies import Replies
from voice.call.session import CallSession, Cleanup, Outbox, VoiceStages
from voice.call.tools import CallToolRunner, tool_reports
from voice.call.transcript import TranscriptRecorder
from voice.call.voice_events import VoiceEvents
from voice.engines.base import EnginePersona
from voice.engines.names import EngineName
from voice.engines.parts import EngineParts
from voice.models import CallMode
from voice.monitor.publisher import CallMonitor
from voice.prompt import persona_prompt_build
from voice.recording.recorder import CallRecorder, recording_wanted
from voice.speech.stt import SpeechContext, speech_to_text
from voice.speech.vocabulary import speech_phrases


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
    monitor = CallMonitor(
        schema_name=schema_name, call_id=call_id, persona=access.agent.name, mode=params.mode
    )
    transcript = TranscriptRecorder(
        schema_name=schema_name, call_id=call_id, send_json=outbox.send_json, monitor=monitor
    )
    agent_turns = AgentTurns(transcript=transcript, clock=clock)
    end_request = EndRequest()
    tools = CallToolRunner(
        schema_name=schema_name,
        call_id=call_id,
        persona_id=access.agent.persona_id,
        enabled=dict(access.agent.tools),
        timezone=access.tenant.timezone,
        opening_hours=access.tenant.opening_hours,
        slow_tools=slow_tools,
        report=tool_reports(
            send_json=outbox.send_json, transcript=transcript, clock=clock, monitor=monitor
        ),
    )
    mode = ServingMode(
        schema_name=schema_name,
        call_id=call_id,
        mode=params.mode,
        send_json=outbox.send_json,
        monitor=monitor,
        transcript=transcript,
        clock=clock,
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
            transcript=transcript,
            agent_turns=agent_turns,
            mode=mode,
            replies=replies,
            tools=tools,
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
        monitor=monitor,
        cleanups=cleanups,
    )


def _voice_stages(
    *,
    call_id: str,
    access: CallAccess,
    params: CallParams,
    outbox: Outbox,
    clock: CallClock,
    transcript: TranscriptRecorder,
    agent_turns: AgentTurns,
    mode: ServingMode,
    replies: Replies,
    tools: CallToolRunner,
    timers: CallTimers,
    speech: SpeechContext,
    end_request: EndRequest,
) -> tuple[VoiceStages, list[Cleanup]]:
    """The stages a voice call adds, and what to close when it ends."""
    barge_in = BargeIn(
        send_json=outbox.send_json, agent_turns=agent_turns, tenant=access.tenant.schema_name
    )
    recorder: CallRecorder | None = None
    if recording_wanted(tenant=access.tenant, mode=params.mode):
        recorder = CallRecorder(schema_name=access.tenant.schema_name, call_id=call_id, clock=clock)
    events = VoiceEvents(
        mode=mode,
        send_json=outbox.send_json,
        send_bytes=outbox.send_bytes,
        encoder=caller_encoder(params.out),
        barge_in=barge_in,
        agent_turns=agent_turns,
        replies=replies,
        timers=timers,
        recorder=recorder,
    )
    decoder = CallerAudioDecoder(params.format, params.rate)
    engines = EngineParts(
        persona=_engine_persona(call_id, access),
        hearing=Hearing(
            detector=partial(caller_speech_detector, decoder.speech_rate),
            stt=speech_to_text(settings.NEXUS_SPEECH_TO_TEXT),
            speech=speech,
            clock=clock,
        ),
        tools=tools,
        history=transcript.turns,
        end_call=end_request,
        frame_ms=params.frame_ms,
    )
    engine = EngineName(access.agent.voice_engine)
    switch = EngineSwitch(
        events=events,
        engine=partial(engines.build, engine),
        fallback=_fallback(engine, engines),
    )
    caller_audio = CallerAudioIn(
        call_id=call_id,
        decoder=decoder,
        hear=lambda audio, received_at: switch.caller_audio(audio, received_at=received_at),
        send_json=outbox.send_json,
        end_call=end_request,
        recorder=recorder,
        frame_ms=params.frame_ms,
    )
    cleanups: list[Cleanup] = [engines.aclose]
    if recorder is not None:
        cleanups.append(recorder.close)
    return VoiceStages(caller_audio, switch, barge_in), cleanups


def _fallback(engine: EngineName, engines: EngineParts) -> EngineFactory | None:
    """The engine serving while the persona's cannot: the cascade, unless it is the persona's
    own or the fallback is text (`NEXUS_VOICE_FALLBACK`)."""
    if engine == EngineName.CASCADE or settings.NEXUS_VOICE_FALLBACK != "cascade":
        return None
    return partial(engines.build, EngineName.CASCADE)


def _engine_persona(call_id: str, access: CallAccess) -> EnginePersona:
    prompt = persona_prompt_build(
        system_prompt=access.agent.system_prompt,
        greeting=access.agent.greeting,
        knowledge=access.agent.knowledge,
    )
    return EnginePersona(
        call_id=call_id,
        profile=access.agent.profile(business=access.tenant.name, timezone=access.tenant.timezone),
        voice_id=access.agent.voice_id,
        language=access.agent.language,
        text_prompt=prompt.text,
    )
