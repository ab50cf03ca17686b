"""Gemini speech-to-text: the real SDK sends the utterance as inline WAV to the fake server."""

import io
import wave

import numpy as np
import pytest
from django.test import override_settings
from google.genai import errors

from voice.speech.gemini_stt import GeminiSpeechToText
from voice.speech.stt import speech_to_text
from voice.tests.fake_gemini import API_KEY, decoded_bytes, error_reply, text_reply

pytestmark = pytest.mark.filterwarnings("ignore:Inheritance class AiohttpClientSession")

RATE = 24_000


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (8000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)


@pytest.fixture
async def stt(fake):
    stt = GeminiSpeechToText(
        api_key=API_KEY, base_url=fake.base_url, retries=1, backoff_seconds=0.01
    )
    yield stt
    await stt.aclose()


async def test_transcribes_inline_wav_of_the_utterance_to_lowercase_text(fake, stt):
    fake.script(text_reply("Hello, I'd like ", "a haircut  on Saturday."))
    pcm = tone(0.75)

    text = await stt.transcribe(pcm)

    assert text == "hello, i'd like a haircut on saturday."
    [request] = fake.requests
    assert not request.stream
    [content] = request.body["contents"]
    instruction, audio = content["parts"]
    assert "Transcribe" in instruction["text"]
    assert audio["inlineData"]["mime_type"] == "audio/wav"
    with wave.open(io.BytesIO(decoded_bytes(audio["inlineData"]["data"]))) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        assert wav.getnframes() == len(pcm) == 18_000
        assert wav.readframes(len(pcm)) == pcm.tobytes()


@pytest.mark.parametrize("answer", ["", "[silence]", "(no speech)"])
async def test_nothing_said_is_the_empty_string(fake, stt, answer):
    fake.script(text_reply(answer))

    assert await stt.transcribe(tone(0.5)) == ""


async def test_an_empty_utterance_sends_nothing(fake, stt):
    assert await stt.transcribe(np.zeros(0, dtype=np.int16)) == ""
    assert fake.requests == []


async def test_gemini_down_raises_after_the_retries(fake, stt):
    fake.always(error_reply(503))

    with pytest.raises(errors.ServerError):
        await stt.transcribe(tone(0.5))
    assert len(fake.requests) == 2


def test_the_factory_builds_gemini_from_the_settings():
    gemini = {
        "GEMINI_API_KEY": API_KEY,
        "GEMINI_MODEL": "gemini-2.5-flash",
        "GEMINI_BASE_URL": "",
        "GEMINI_TIMEOUT_SECONDS": 5.0,
        "GEMINI_RETRIES": 1,
        "GEMINI_TRANSPORT": "rest",
    }
    with override_settings(**gemini):
        provider = speech_to_text("gemini")
        assert isinstance(provider, GeminiSpeechToText)
        assert speech_to_text("gemini") is provider
