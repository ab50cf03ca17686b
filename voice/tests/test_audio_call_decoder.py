"""A call's caller audio: PCM24k for the call, and the speech as sent where the VAD takes it."""

import numpy as np
import pytest

from bench.signals import dominant_frequency, tone
from voice.audio.base import PCM_RATE, CallerAudio
from voice.audio.call_decoder import CallerAudioDecoder
from voice.tests.audio_fixtures import mediarecorder_webm
from voice.tests.test_audio_pcm16 import odd_chunks


@pytest.mark.parametrize("rate", [8_000, 16_000, 32_000, 48_000])
def test_pcm16_at_a_speech_rate_keeps_its_samples_as_sent_beside_the_pcm24k(rate):
    sent = tone(440, 1.0, rate)
    decoder = CallerAudioDecoder("pcm16", rate)

    pieces = [decoder.decode(chunk) for chunk in odd_chunks(sent.astype("<i2").tobytes())]

    assert decoder.speech_rate == rate and all(p.speech_rate == rate for p in pieces)
    assert np.array_equal(np.concatenate([p.speech for p in pieces]), sent)  # nothing resampled
    pcm = np.concatenate([p.pcm for p in pieces])
    assert abs(len(pcm) - PCM_RATE) <= 480
    assert dominant_frequency(pcm) == pytest.approx(440, abs=2)


@pytest.mark.parametrize(("format", "rate"), [("pcm16", 24_000), ("pcm16", 44_100)])
def test_other_pcm16_rates_are_heard_as_the_pcm24k(format, rate):
    decoder = CallerAudioDecoder(format, rate)

    audio = decoder.decode(tone(440, 0.1, rate).astype("<i2").tobytes())

    assert decoder.speech_rate == PCM_RATE and audio.speech_rate == PCM_RATE
    assert audio.speech is audio.pcm and len(audio.pcm) == PCM_RATE // 10


def test_opus_is_heard_as_the_pcm24k():
    decoder = CallerAudioDecoder("webm-opus")

    audio = decoder.decode(mediarecorder_webm(tone(440, 0.5, 48_000)))
    decoder.close()

    assert decoder.speech_rate == PCM_RATE
    assert audio.speech is audio.pcm and dominant_frequency(audio.pcm) == pytest.approx(440, abs=5)


def test_silence_in_front_is_as_long_at_both_rates():
    sent = np.full(640, 1000, dtype=np.int16)
    audio = CallerAudio(np.full(960, 1000, dtype=np.int16), sent, 16_000)

    padded = audio.after_silence(168)  # 7 ms

    assert len(padded.pcm) == 960 + 168 and len(padded.speech) == 640 + 112
    assert not padded.speech[:112].any() and (padded.speech[112:] == 1000).all()
    assert not padded.pcm[:168].any() and padded.speech_rate == 16_000
    at_24k = CallerAudio.at_24k(audio.pcm).after_silence(168)
    assert at_24k.speech is at_24k.pcm
