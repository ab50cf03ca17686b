"""Speech-to-text through Gemini's audio input: one utterance sent as an inline WAV file.

The instructions go in the system instruction, with the call's language and the persona's
phrases as hints; the utterance (PCM24k, int16, mono) is the only content, as ``audio/wav``; the
reply is structured (`TRANSCRIPT_SCHEMA`: the transcript and a no-speech flag). A reply that is
not a transcript (not that JSON, the instructions said back, or more words than the utterance
could hold: an answer to the caller rather than their words) is discarded and logged, never
taken as what the caller said. A failure to reach Gemini raises: the caller's turn worker logs
it and moves on to the next utterance.
"""

import functools
import io
import json
import logging
import re
import wave
from dataclasses import asdict

import jsonschema
import numpy as np
from google.genai import types

from nexus_project.metrics import gemini_request
from voice.agent.gemini_client import GeminiConfig, GeminiService
from voice.audio.base import PCM_RATE
from voice.speech.stt import ANYTHING, SpeechContext

logger = logging.getLogger(__name__)

INSTRUCTION = (
    "You transcribe one utterance of a caller on a phone line to a business. Write down exactly"
    " the words spoken in the audio, in the language they are spoken in: do not answer them,"
    " do not add anything. When the audio holds no speech, set no_speech and leave the"
    " transcript empty."
)
TRANSCRIPT_SCHEMA = {
    "type": "object",
    "properties": {"transcript": {"type": "string"}, "no_speech": {"type": "boolean"}},
    "required": ["transcript", "no_speech"],
}
HINTS = 60  # of the persona's phrases, given as hints
WORDS_PER_SECOND = 5  # faster than anyone speaks: a longer "transcript" is not one
# What models write instead of nothing: "[silence]", "(no speech)", "<noise>".
_NON_SPEECH = re.compile(r"^[\[(<].*[\])>]$")
_INSTRUCTION_ECHO = re.compile(r"\b(?:transcri(?:be|ption|pt)|no_speech|utterance)\b")
_VALIDATOR = jsonschema.Draft202012Validator(TRANSCRIPT_SCHEMA)


def wav_bytes(pcm: np.ndarray, sample_rate: int = PCM_RATE) -> bytes:
    """``pcm`` (int16 mono) as a 16-bit mono WAV file."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(np.asarray(pcm, dtype="<i2").tobytes())
    return buffer.getvalue()


def system_instruction(context: SpeechContext) -> str:
    hints = "; ".join(context.phrases[:HINTS])
    about = f" Callers often say things like: {hints}." if hints else ""
    return f"{INSTRUCTION} The caller speaks {context.language}.{about}"


class GeminiSpeechToText(GeminiService):
    """The "gemini" SpeechToText provider; one instance can serve every call of a process."""

    async def transcribe(self, pcm: np.ndarray, context: SpeechContext = ANYTHING) -> str:
        """One utterance of PCM24k -> lowercase text, or "" when nothing was said."""
        pcm = np.asarray(pcm, dtype=np.int16).reshape(-1)
        if not len(pcm):
            return ""
        audio = types.Part.from_bytes(data=wav_bytes(pcm), mime_type="audio/wav")
        config = types.GenerateContentConfig(
            system_instruction=system_instruction(context),
            response_mime_type="application/json",
            response_json_schema=TRANSCRIPT_SCHEMA,
        )
        with gemini_request("speech_to_text"):
            response = await self._client.aio.models.generate_content(
                model=self.model,
                contents=[types.Content(role="user", parts=[audio])],
                config=config,
            )
        return self._transcript(response.text, seconds=len(pcm) / PCM_RATE)

    def _transcript(self, reply: str | None, *, seconds: float) -> str:
        try:
            answer = json.loads(reply or "")
        except json.JSONDecodeError:
            answer = None
        if answer is None or not _VALIDATOR.is_valid(answer):
            # Its text is not logged: it may hold the caller's words.
            logger.warning(
                "Gemini (%s) answered no transcript (%d characters)", self.model, len(reply or "")
            )
            return ""
        text = " ".join(answer["transcript"].lower().split())
        if answer["no_speech"] or _NON_SPEECH.match(text):
            return ""
        if _INSTRUCTION_ECHO.search(text) or len(text.split()) > WORDS_PER_SECOND * seconds + 4:
            logger.warning(
                "Gemini (%s) answered what is not a transcript: %.200r", self.model, text
            )
            return ""
        return text


@functools.lru_cache(maxsize=4)
def gemini_speech_to_text(config: GeminiConfig) -> GeminiSpeechToText:
    """The process's provider for ``config``: built once, so every call shares its connections."""
    return GeminiSpeechToText(**asdict(config))
