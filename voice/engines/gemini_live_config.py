"""What a Gemini Live session is set up with, and what a new session opens with.

The setup: the persona's prompt and the business's local date and time as the system
instruction, the persona's voice, the call's tools as function declarations (as the text agent
declares them), the caller's and the agent's words transcribed, session resumption (with the
handle of the session it continues, if any), and a sliding context window so a long call is
never cut at the Live API's session limit.
"""

from google.genai import types

from tools_registry.base import ToolSpec
from voice.agent.base import Turn
from voice.agent.gemini_prompt import function_tools, history_contents
from voice.engines.base import EnginePersona

# A new session of a call under way starts from its transcript, and this.
_BACK = (
    "(The call was cut off for a moment and the caller can hear you again: say so in a few"
    " words, then go on.)"
)


def live_connect_config(
    persona: EnginePersona, specs: tuple[ToolSpec, ...], *, handle: str | None
) -> types.LiveConnectConfig:
    """The setup of a session that speaks as `persona` with the tools `specs`; `handle`: the
    resumption handle of the session it continues (None: a new conversation)."""
    voice = types.PrebuiltVoiceConfig(voice_name=persona.voice_id)
    window = types.ContextWindowCompressionConfig(sliding_window=types.SlidingWindow())
    return types.LiveConnectConfig(
        response_modalities=[types.Modality.AUDIO],
        speech_config=types.SpeechConfig(
            voice_config=types.VoiceConfig(prebuilt_voice_config=voice)
        ),
        system_instruction=live_instruction(persona),
        tools=function_tools(specs),
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
        session_resumption=types.SessionResumptionConfig(handle=handle),
        context_window_compression=window,
    )


def live_instruction(persona: EnginePersona) -> str:
    """The persona's prompt, then the business's date and time now."""
    profile = persona.profile
    now = profile.now()
    when = (
        f"It is {now:%A %-d %B %Y}, {now:%H:%M}, at {profile.business} ({profile.timezone} time)."
    )
    return f"{persona.text_prompt.strip()}\n\n{when}"


def opening_contents(history: list[Turn]) -> list[types.Content | types.ContentDict]:
    """A new session's first turn, for the model to answer at once: the call's opening (it
    greets), or the conversation so far and a note that the caller hears the agent again."""
    return [*history_contents([*history, Turn("caller", _BACK)] if history else [])]
