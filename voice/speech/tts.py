"""Text-to-speech for the cascade's side: the provider interface, the fallback and the factory.

A provider speaks one sentence of the agent's answer as PCM24k, in one of the cascade's voices
(Gemini's voice names, `voice.engines.voices`) and the call's language. Providers are shared by
the calls of a process: ``synthesize`` must be safe to await concurrently and must never block
the event loop.
"""

import asyncio
import logging
from typing import Protocol

import numpy as np

from nexus_project.errors import ApplicationError
from voice.engines.voices import Voice

logger = logging.getLogger(__name__)

PROVIDERS = ("offline", "gemini")


class SpeechSynthesisError(ApplicationError):
    """A sentence could not be spoken: the synthesizer failed or answered no audio."""

    default_code = "speech_synthesis_failed"


class TextToSpeech(Protocol):
    async def synthesize(self, text: str, voice: Voice, language: str = "en") -> np.ndarray:
        """One sentence -> PCM24k spoken by ``voice``; empty for blank text."""
        ...


class FallbackTextToSpeech:
    """``primary``, and ``fallback`` for each sentence ``primary`` fails to speak or is still
    making after ``deadline_seconds`` (logged): trouble on the network changes the voice of a
    sentence, it never leaves the caller in silence."""

    def __init__(
        self, primary: TextToSpeech, fallback: TextToSpeech, *, deadline_seconds: float = 6.0
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.deadline_seconds = deadline_seconds

    async def synthesize(self, text: str, voice: Voice, language: str = "en") -> np.ndarray:
        try:
            async with asyncio.timeout(self.deadline_seconds):
                return await self.primary.synthesize(text, voice, language)
        except Exception as error:
            logger.warning("text-to-speech failed (%r): the sentence is spoken offline", error)
            return await self.fallback.synthesize(text, voice, language)


def text_to_speech(name: str = "offline") -> TextToSpeech:
    """The provider called ``name``: "offline" (eSpeak NG, no network) or "gemini" (Gemini's
    speech generation, built from the GEMINI_* settings, one per process, with the offline
    voice for the sentences it fails to speak)."""
    # Imported here: only a process that speaks pays for its provider.
    from voice.speech.espeak_tts import EspeakTextToSpeech

    if name == "offline":
        return EspeakTextToSpeech()
    if name == "gemini":
        from django.conf import settings

        from voice.agent.gemini_client import gemini_config_from_settings
        from voice.speech.gemini_tts import gemini_text_to_speech

        gemini = gemini_text_to_speech(gemini_config_from_settings(), settings.GEMINI_TTS_MODEL)
        return FallbackTextToSpeech(gemini, EspeakTextToSpeech())
    raise ValueError(f"unknown text-to-speech provider {name!r}; known: {', '.join(PROVIDERS)}")
