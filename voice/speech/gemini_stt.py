"""Speech-to-text through Gemini's audio input: one utterance sent as an inline WAV file.

The utterance (PCM24k, int16, mono) goes as ``audio/wav`` with a short transcription instruction
through the same SDK client settings as the agent (retries, per-attempt timeout). A failure
raises: the caller's turn worker logs it and moves on to the next utterance.
"""

import functools
import io
import re
import wave
from dataclasses import asdict

import numpy as np
from google.genai import types

from voice.agent.gemini_client import GeminiConfig, GeminiService
from voice.audio.base import PCM_RATE

INSTRUCTION = (
    "Transcribe the speech in this audio exactly as spoken, in its language. Reply with the"
    " transcript only, with no comments; when there is no speech, reply with nothing."
)
# What models write instead of nothing: "[silence]", "(no speech)", "<noise>".
_NON_SPEECH = re.compile(r"^[\[(<].*[\])>]$")


def wav_bytes(pcm: np.ndarray, sample_rate: int = PCM_RATE) -> bytes:
    """``pcm`` (int16 mono) as a 16-bit mono WAV file."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(np.asarray(pcm, dtype="<i2").tobytes())
    return buffer.getvalue()


class GeminiSpeechToText(GeminiService):
    """The "gemini" SpeechToText provider; one instance can serve every call of a process."""

    async def transcribe(self, pcm: np.ndarray) -> str:
        """One utterance of PCM24k -> lowercase text, or "" when nothing was said."""
        pcm = np.asarray(pcm, dtype=np.int16).reshape(-1)
        if not len(pcm):
            return ""
        audio = types.Part.from_bytes(data=wav_bytes(pcm), mime_type="audio/wav")
        response = await self._client.aio.models.generate_content(
            model=self.model,
            contents=[types.Content(role="user", parts=[types.Part(text=INSTRUCTION), audio])],
        )
        text = " ".join((response.text or "").lower().split())
        return "" if _NON_SPEECH.match(text) else text


@functools.lru_cache(maxsize=4)
def gemini_speech_to_text(config: GeminiConfig) -> GeminiSpeechToText:
    """The process's provider for ``config``: built once, so every call shares its connections."""
    return GeminiSpeechToText(**asdict(config))
