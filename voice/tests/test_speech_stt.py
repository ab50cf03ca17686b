"""Offline speech-to-text (pocketsphinx) on espeak-ng speech: the words, silence, the loop."""

import asyncio

import numpy as np
import pytest

from bench.speech import noise, silence, speak
from voice.speech.pocketsphinx_stt import PocketsphinxSpeechToText, decode
from voice.speech.stt import NoSpeechToText, speech_to_text

# Of espeak-ng's voices, pocketsphinx's US English model understands the "f5" variant best.
VOICE = "en-us+f5"

# (phrase, espeak rate in wpm, words the transcript must contain)
RECOGNIZED = [
    ("one two three four five", 150, ["one", "two", "three", "four", "five"]),
    ("where are you located", 150, ["where", "located"]),
    ("yes please", 150, ["yes", "please"]),
    ("i would like to book an appointment", 150, ["book", "appointment"]),
    ("how much is a haircut", 150, ["how", "much", "haircut"]),
    ("hello there", 150, ["hello"]),
]


def utterance(text: str, rate_wpm: int = 150) -> np.ndarray:
    """As the VAD cuts it: the speech with some silence around it."""
    return np.concatenate((silence(0.3), speak(text, voice=VOICE, rate_wpm=rate_wpm), silence(0.3)))


@pytest.fixture(scope="module")
def stt() -> PocketsphinxSpeechToText:
    return PocketsphinxSpeechToText()


@pytest.mark.parametrize(("phrase", "rate_wpm", "words"), RECOGNIZED)
async def test_transcribes_the_key_words_of_a_spoken_phrase(stt, phrase, rate_wpm, words):
    text = await stt.transcribe(utterance(phrase, rate_wpm))
    assert text == text.lower().strip()
    assert set(words) <= set(text.split()), text


async def test_silence_transcribes_to_nothing(stt):
    assert await stt.transcribe(silence(1.0)) == ""
    assert await stt.transcribe(silence(0.0)) == ""
    assert await stt.transcribe(noise(1.0, -50.0)) == ""


def test_a_worker_transcribes_the_same_audio_the_same_whatever_it_decoded_before():
    digits = utterance("one two three four five")
    first = decode(digits)  # in this process, as a pool worker does
    decode(utterance(RECOGNIZED[3][0]))
    assert decode(digits) == first


async def test_concurrent_transcriptions_share_the_pool_and_each_gets_its_own_words(stt):
    phrases = [phrase for phrase, _, _ in RECOGNIZED[:3]]
    texts = await asyncio.gather(*(stt.transcribe(utterance(phrase)) for phrase in phrases))
    for text, (_, _, words) in zip(texts, RECOGNIZED[:3], strict=True):
        assert set(words) <= set(text.split()), text


async def test_the_event_loop_keeps_running_while_transcribing(stt):
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    text = await stt.transcribe(utterance("one two three four five"))
    task.cancel()
    # Decoding takes tenths of a second (a first one also starts a worker): a blocked loop
    # would not have ticked at all.
    assert ticks >= 10
    assert "three" in text.split()


def test_factory_gives_the_offline_provider_and_refuses_unknown_names():
    assert isinstance(speech_to_text("offline"), PocketsphinxSpeechToText)
    assert isinstance(speech_to_text("none"), NoSpeechToText)
    with pytest.raises(ValueError, match="unknown speech-to-text provider"):
        speech_to_text("nope")
