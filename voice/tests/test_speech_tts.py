"""Text-to-speech: eSpeak NG heard back by the offline recognizer, Gemini's speech generation
through the real SDK against the fake server, and the fallback from one to the other."""

import asyncio
import time
from pathlib import Path

import espeakng_loader
import numpy as np
import pytest
from django.test import override_settings

from voice.audio.base import PCM_RATE, level_dbfs
from voice.engines.names import EngineName
from voice.engines.voices import voice_find
from voice.speech.espeak_tts import EspeakTextToSpeech
from voice.speech.gemini_tts import DEFAULT_TTS_MODEL, GeminiTextToSpeech
from voice.speech.pocketsphinx_stt import PocketsphinxSpeechToText
from voice.speech.stt import SpeechContext
from voice.speech.tts import FallbackTextToSpeech, SpeechSynthesisError, text_to_speech
from voice.tests.fake_gemini import API_KEY, audio_reply, error_reply, hang_reply, text_reply

pytestmark = pytest.mark.filterwarnings("ignore:Inheritance class AiohttpClientSession")

KORE = voice_find(EngineName.CASCADE, "Kore")  # female
PUCK = voice_find(EngineName.CASCADE, "Puck")  # male
HOURS = "We are open from nine in the morning to five in the evening"
# What a barbershop's persona would give the recognizer as its callers' likely phrases.
OPENING_HOURS = SpeechContext(
    phrases=(
        "what time do you open",
        "are you open at nine in the morning",
        "do you close at five in the evening",
        "open from nine to five",
    )
)
SENTENCES = [
    "Hello.",
    "A haircut is twenty five dollars.",
    "We are open from nine in the morning to five in the evening, Tuesday to Saturday.",
    "Would you like me to book an appointment for you?",
]


def tone(hz: float, seconds: float, rate: int = PCM_RATE) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return (8000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def peak_hz(pcm: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float64)))
    return float(np.fft.rfftfreq(len(pcm), 1 / PCM_RATE)[np.argmax(spectrum)])


def fundamental_hz(pcm: np.ndarray) -> float:
    """The median pitch of the clearly voiced 40 ms frames, by autocorrelation (60-400 Hz)."""
    frame, shortest, longest = PCM_RATE // 25, PCM_RATE // 400, PCM_RATE // 60
    pitches = []
    for start in range(0, len(pcm) - frame, frame):
        x = pcm[start : start + frame].astype(np.float64)
        x -= x.mean()
        correlation = np.correlate(x, x, "full")[frame - 1 :]
        lag = shortest + int(np.argmax(correlation[shortest:longest]))
        if correlation[0] > 0 and correlation[lag] > 0.5 * correlation[0]:
            pitches.append(PCM_RATE / lag)
    assert len(pitches) >= 10, "too few voiced frames"
    return float(np.median(pitches))


def mapped_files(name: str) -> set[Path]:
    """The files of this process's memory map whose path holds ``name`` (Linux)."""
    maps = Path("/proc/self/maps").read_text().splitlines()
    return {Path(line.split()[-1]) for line in maps if name in line}


@pytest.fixture(scope="module")
def espeak() -> EspeakTextToSpeech:
    return EspeakTextToSpeech()


async def test_espeak_speaks_words_the_recognizer_hears(espeak):
    pcm = await espeak.synthesize(HOURS, KORE)

    pause = np.zeros(PCM_RATE // 4, dtype=np.int16)
    text = await PocketsphinxSpeechToText().transcribe(
        np.concatenate((pause, pcm, pause)), OPENING_HOURS
    )
    assert {"open", "nine", "five"} <= set(text.split()), text


async def test_espeak_gives_pcm24k_of_a_sentence_length_at_speaking_level(espeak):
    pcm = await espeak.synthesize(HOURS, PUCK)

    assert pcm.dtype == np.int16 and pcm.ndim == 1
    # 12 words at ~160 words a minute, and a sentence's pause at the end.
    assert 3.0 < len(pcm) / PCM_RATE < 6.0
    assert level_dbfs(pcm) > -30.0


async def test_blank_text_is_no_audio(espeak):
    assert len(await espeak.synthesize("", KORE)) == 0
    assert len(await espeak.synthesize("  \n ", PUCK)) == 0


async def test_a_female_voice_speaks_higher_than_a_male_one(espeak):
    female = fundamental_hz(await espeak.synthesize(HOURS, KORE))
    male = fundamental_hz(await espeak.synthesize(HOURS, PUCK))

    assert 70 < male < 160 < female < 350, (male, female)


async def test_the_language_picks_the_voice(espeak, caplog):
    english = await espeak.synthesize("Bonjour, je voudrais une coupe", PUCK, "en")
    french = await espeak.synthesize("Bonjour, je voudrais une coupe", PUCK, "fr-FR")
    unknown = await espeak.synthesize("Bonjour, je voudrais une coupe", PUCK, "xx")

    assert len(french) < 0.9 * len(english)  # read by French rules, not spelled out in English
    assert len(unknown) == pytest.approx(len(english), rel=0.02)
    assert "no voice for 'xx': speaking English" in caplog.text


async def test_concurrent_syntheses_come_back_whole_while_the_loop_runs(espeak):
    alone = [len(await espeak.synthesize(sentence, KORE)) for sentence in SENTENCES]
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    ticks = 0
    together = await asyncio.gather(
        *(espeak.synthesize(sentence, KORE) for sentence in SENTENCES * 3)
    )
    ticked = ticks
    task.cancel()

    for pcm, length in zip(together, alone * 3, strict=True):
        assert abs(len(pcm) - length) < 0.01 * length  # its own sentence, all of it
        assert level_dbfs(pcm) > -30.0
    assert ticked >= 10  # the loop ran while eSpeak spoke (a blocked loop: 2 at most)


async def test_espeak_runs_from_the_wheel_not_a_system_package(espeak):
    await espeak.synthesize("Hello.", KORE)

    wheel = Path(espeakng_loader.get_library_path()).parent
    libraries = mapped_files("libespeak")
    assert libraries and all(library.parent == wheel for library in libraries), libraries


@pytest.fixture
async def gemini(fake):
    tts = GeminiTextToSpeech(
        api_key=API_KEY, base_url=fake.base_url, retries=1, backoff_seconds=0.01
    )
    yield tts
    await tts.aclose()


async def test_gemini_speaks_with_the_persona_voice(fake, gemini):
    fake.script(audio_reply(tone(440, 1.0)))

    pcm = await gemini.synthesize(HOURS, KORE)

    assert len(pcm) == PCM_RATE and pcm.dtype == np.int16
    assert peak_hz(pcm) == pytest.approx(440, abs=2)
    [request] = fake.requests
    assert request.model == DEFAULT_TTS_MODEL and not request.stream
    assert request.texts() == [HOURS]
    assert request.voice_name == "Kore"


async def test_gemini_audio_at_another_rate_becomes_pcm24k(fake, gemini):
    fake.script(audio_reply(tone(440, 1.0, rate=16_000), rate=16_000))

    pcm = await gemini.synthesize(HOURS, PUCK)

    assert abs(len(pcm) - PCM_RATE) < 100
    assert peak_hz(pcm) == pytest.approx(440, abs=2)
    assert fake.requests[0].voice_name == "Puck"


async def test_gemini_answering_no_audio_is_an_error(fake, gemini):
    fake.script(text_reply("Sure, here you go."))

    with pytest.raises(SpeechSynthesisError, match="no PCM16 audio"):
        await gemini.synthesize(HOURS, KORE)


async def test_gemini_is_not_asked_to_speak_blank_text(fake, gemini):
    assert len(await gemini.synthesize(" ", KORE)) == 0
    assert fake.requests == []


@pytest.mark.parametrize("status", [500, 503])
async def test_gemini_down_speaks_the_sentence_offline(fake, gemini, espeak, status, caplog):
    fake.always(error_reply(status))
    tts = FallbackTextToSpeech(gemini, espeak)

    pcm = await tts.synthesize(HOURS, KORE)

    assert 3.0 < len(pcm) / PCM_RATE < 6.0
    assert level_dbfs(pcm) > -30.0
    assert len(fake.requests) == 2  # the first attempt and its retry
    assert "ServerError" in caplog.text and "spoken offline" in caplog.text


async def test_gemini_too_slow_speaks_the_sentence_offline(fake, gemini, espeak, caplog):
    fake.script(hang_reply(1.5))
    tts = FallbackTextToSpeech(gemini, espeak, deadline_seconds=0.3)

    started = time.monotonic()
    pcm = await tts.synthesize(HOURS, KORE)

    assert time.monotonic() - started < 1.0
    assert 3.0 < len(pcm) / PCM_RATE < 6.0
    assert "TimeoutError" in caplog.text and "spoken offline" in caplog.text


async def test_gemini_back_speaks_with_gemini_again(fake, gemini, espeak):
    fake.script(error_reply(503), error_reply(503), audio_reply(tone(440, 0.5)))
    tts = FallbackTextToSpeech(gemini, espeak)

    offline = await tts.synthesize(HOURS, KORE)
    online = await tts.synthesize(HOURS, KORE)

    assert len(offline) > 3 * PCM_RATE
    assert len(online) == PCM_RATE // 2 and peak_hz(online) == pytest.approx(440, abs=4)


def test_the_factory_builds_each_provider():
    gemini = {
        "GEMINI_API_KEY": API_KEY,
        "GEMINI_MODEL": "gemini-2.5-flash",
        "GEMINI_TTS_MODEL": "gemini-2.5-pro-preview-tts",
        "GEMINI_BASE_URL": "",
        "GEMINI_TIMEOUT_SECONDS": 5.0,
        "GEMINI_RETRIES": 1,
        "GEMINI_TRANSPORT": "rest",
    }
    with override_settings(**gemini):
        provider = text_to_speech("gemini")
        assert isinstance(provider, FallbackTextToSpeech)
        assert isinstance(provider.primary, GeminiTextToSpeech)
        assert isinstance(provider.fallback, EspeakTextToSpeech)
        assert provider.primary.model == "gemini-2.5-pro-preview-tts"
        assert text_to_speech("gemini").primary is provider.primary  # type: ignore[attr-defined]
    assert isinstance(text_to_speech("offline"), EspeakTextToSpeech)
    with pytest.raises(ValueError, match="unknown text-to-speech provider"):
        text_to_speech("festival")
