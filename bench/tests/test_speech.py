"""The speech helpers themselves: espeak-ng clips and WAV files for Chromium's fake microphone."""

import wave

import numpy as np

from bench.speech import read_wav, silence, speak, write_wav
from voice.audio.base import level_dbfs


def test_speak_gives_pcm24k_speech_of_a_plausible_length_and_caches_it():
    clip = speak("one two three four five")
    assert clip.dtype == np.int16 and clip.ndim == 1
    assert 1.0 < len(clip) / 24_000 < 4.0
    assert level_dbfs(clip) > -30
    assert speak("one two three four five") is clip
    assert len(speak("one two three four five", rate_wpm=250)) < len(clip)


def test_write_wav_writes_16_bit_mono_padded_with_silence(tmp_path):
    clip = speak("hello")
    path = tmp_path / "fake-mic.wav"
    write_wav(path, clip, 48_000, pad_seconds=1.0)

    with wave.open(str(path)) as wav:
        assert (wav.getsampwidth(), wav.getnchannels(), wav.getframerate()) == (2, 1, 48_000)
    pcm, rate = read_wav(path)
    assert rate == 48_000
    assert np.array_equal(pcm, np.concatenate((silence(1.0, rate), clip, silence(1.0, rate))))
