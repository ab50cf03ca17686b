"""Speech-to-text for the caller's side: the provider interface and the factory.

A provider turns one utterance (PCM24k, as cut by the VAD) into lowercase text, told what the
call's speech is likely to be (`SpeechContext`: its language, and the persona's phrases to bias
recognition towards). Providers are shared by the calls of a process: ``transcribe`` must be
safe to await concurrently and must never block the event loop.
"""

from dataclasses import dataclass
from typing import Protocol

import numpy as np

PROVIDERS = ("offline", "gemini", "none")


@dataclass(frozen=True)
class SpeechContext:
    """What a call's speech is likely to be: its language, and phrases callers are likely to
    say (`voice.speech.vocabulary`); none: anything at all."""

    language: str = "en"
    phrases: tuple[str, ...] = ()


ANYTHING = SpeechContext()


class SpeechToText(Protocol):
    async def transcribe(self, pcm: np.ndarray, context: SpeechContext = ANYTHING) -> str:
        """One utterance of PCM24k -> lowercase text, or "" when nothing was recognized."""
        ...


class NoSpeechToText:
    """Hears nothing ("none"): for measuring the voice bridge alone."""

    async def transcribe(self, pcm: np.ndarray, context: SpeechContext = ANYTHING) -> str:
        return ""


def speech_to_text(name: str = "offline") -> SpeechToText:
    """The provider called ``name``: "offline" (pocketsphinx, no network), "gemini" (Gemini's
    audio input, built from the GEMINI_* settings, one per process) or "none" (no text)."""
    if name == "none":
        return NoSpeechToText()
    if name == "offline":
        # Imported here: only a process that transcribes pays for pocketsphinx.
        from voice.speech.pocketsphinx_stt import PocketsphinxSpeechToText

        return PocketsphinxSpeechToText()
    if name == "gemini":
        from voice.agent.gemini_client import gemini_config_from_settings
        from voice.speech.gemini_stt import gemini_speech_to_text

        return gemini_speech_to_text(gemini_config_from_settings())
    raise ValueError(f"unknown speech-to-text provider {name!r}; known: {', '.join(PROVIDERS)}")
