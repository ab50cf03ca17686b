"""Gemini speech-to-text: the real SDK sends the utterance as inline WAV to the fake server."""

import io
import wave

import numpy as np
import pytest
from django.test import override_settings
from google.genai import errors

from voice.speech.gemini_stt import GeminiSpeechToText
from voice.speech.stt import SpeechContext, speech_to_text
from voice.tests.fake_gemini import API_KEY, decoded_bytes, error_reply, json_reply, text_reply

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


def said(transcript: str, no_speech: bool = False):
    return json_reply({"transcript": transcript, "no_speech": no_speech})


async def test_transcribes_inline_wav_of_the_utterance_to_lowercase_text(fake, stt):
    fake.script(said("Hello, I'd like  a haircut on Saturday."))
    pcm = tone(0.75 * 4)
    context = SpeechContext(language="fr", phrases=("book a haircut", "beard trim"))

    text = await stt.transcribe(pcm, context)

    assert text == "hello, i'd like a haircut on saturday."
    [request] = fake.requests
    assert not request.stream
    assert "transcribe one utterance" in request.system_text
    assert (
        "speaks fr" in request.system_text and "book a haircut; beard trim" in request.system_text
    )
    assert request.body["generationConfig"]["responseMimeType"] == "application/json"
    [content] = request.body["contents"]
    [audio] = content["parts"]
    assert audio["inlineData"]["mime_type"] == "audio/wav"
    with wave.open(io.BytesIO(decoded_bytes(audio["inlineData"]["data"]))) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        assert wav.getnframes() == len(pcm) == 72_000
        assert wav.readframes(len(pcm)) == pcm.tobytes()


@pytest.mark.parametrize(
    "answer", [said("", no_speech=True), said("[silence]"), said("(no speech)")]
)
async def test_nothing_said_is_the_empty_string(fake, stt, answer):
    fake.script(answer)

    assert await stt.transcribe(tone(0.5)) == ""


@pytest.mark.parametrize(
    "answer",
    [
        text_reply("Sure! I can help you book a haircut."),  # not the JSON asked for
        said("Transcribe the speech in this audio exactly as spoken"),  # the instructions
        said(
            "Of course! We are open Tuesday to Saturday, nine to six, and a haircut is"
            " twenty five dollars; shall I book one for you?"
        ),  # an answer, not one second
        json_reply({"text": "hello"}),  # not the schema
    ],
)
async def test_a_reply_that_is_not_a_transcript_is_discarded(fake, stt, answer, caplog):
    fake.script(answer)

    assert await stt.transcribe(tone(1.0)) == ""
    assert "Gemini (gemini-2.5-flash) answered" in caplog.text


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
