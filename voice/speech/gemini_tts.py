"""Text-to-speech through Gemini's speech generation: one sentence in, raw PCM16 back.

The sentence is the only content; the answer's modality is audio, spoken by the prebuilt voice
of the cascade `Voice` (its id is Gemini's voice name). Gemini finds the language in the text
itself. The audio comes back as inline data of type ``audio/L16;codec=pcm;rate=24000``
(little-endian PCM16): another rate is resampled to PCM24k, and an answer without such audio is
a `SpeechSynthesisError`. A failure to reach Gemini raises after the client's retries.
"""

import functools
import re
from dataclasses import asdict
from typing import Any

import numpy as np
from google.genai import types

from nexus_project.metrics import gemini_request
from voice.agent.gemini_client import GeminiConfig, GeminiService
from voice.audio.base import PCM_RATE, empty_pcm, join_pcm
from voice.audio.formats.pcm16 import Pcm16Decoder
from voice.engines.voices import Voice
from voice.speech.tts import SpeechSynthesisError

DEFAULT_TTS_MODEL = "gemini-2.5-flash-preview-tts"
_PCM16_MIME = re.compile(r"^audio/(?:l16|pcm)\b", re.IGNORECASE)
_RATE = re.compile(r"\brate=(\d+)")


class GeminiTextToSpeech(GeminiService):
    """The "gemini" TextToSpeech provider; one instance can serve every call of a process."""

    def __init__(self, *, model: str = DEFAULT_TTS_MODEL, **service: Any) -> None:
        super().__init__(model=model, **service)

    async def synthesize(self, text: str, voice: Voice, language: str = "en") -> np.ndarray:
        if not text.strip():
            return empty_pcm()
        prebuilt = types.PrebuiltVoiceConfig(voice_name=voice.id)
        config = types.GenerateContentConfig(
            response_modalities=["AUDIO"],
            speech_config=types.SpeechConfig(
                voice_config=types.VoiceConfig(prebuilt_voice_config=prebuilt)
            ),
        )
        with gemini_request("text_to_speech"):
            response = await self._client.aio.models.generate_content(
                model=self.model, contents=text, config=config
            )
        return self._pcm24k(response)

    def _pcm24k(self, response: types.GenerateContentResponse) -> np.ndarray:
        audio = [part.inline_data for part in response.parts or [] if part.inline_data]
        audio = [data for data in audio if data.data]
        mime_types = [data.mime_type or "" for data in audio]
        if not audio or not all(_PCM16_MIME.match(mime_type) for mime_type in mime_types):
            answered = mime_types or response.text
            raise SpeechSynthesisError(
                f"Gemini ({self.model}) answered no PCM16 audio: {answered!r:.200}",
                model=self.model,
            )
        pcm: list[np.ndarray] = []
        for data, mime_type in zip(audio, mime_types, strict=True):
            rate = _RATE.search(mime_type)
            decoder = Pcm16Decoder(int(rate[1]) if rate else PCM_RATE)
            pcm += [decoder.decode(data.data or b""), decoder.flush()]
        return join_pcm(pcm)


@functools.lru_cache(maxsize=4)
def gemini_text_to_speech(config: GeminiConfig, model: str) -> GeminiTextToSpeech:
    """The process's provider for ``config`` speaking with ``model``: built once, so every call
    shares its connections."""
    return GeminiTextToSpeech(**(asdict(config) | {"model": model}))
