"""The signal helpers other audio tests rely on must themselves measure correctly."""

import numpy as np
import pytest

from bench.signals import dominant_frequency, tone
from voice.audio.base import level_dbfs, rms


@pytest.mark.parametrize(("freq", "rate"), [(440, 24_000), (1000, 8_000), (3210.5, 48_000)])
def test_dominant_frequency_finds_the_tone(freq, rate):
    pcm = tone(freq, 0.25, rate)

    assert pcm.dtype == np.int16
    assert len(pcm) == rate // 4
    assert dominant_frequency(pcm, rate) == pytest.approx(freq, abs=1.0)


def test_dominant_frequency_picks_the_strongest_of_two_tones():
    mixed = tone(300, 0.5, amplitude=0.1) + tone(2500, 0.5, amplitude=0.4)

    assert dominant_frequency(mixed) == pytest.approx(2500, abs=1.0)


def test_helpers_accept_float_pcm_as_sphn_returns_it():
    pcm = tone(440, 0.5).astype(np.float32) / 32768

    assert dominant_frequency(pcm) == pytest.approx(440, abs=1.0)
    assert rms(pcm) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_levels():
    assert rms(tone(440, 0.5, amplitude=1.0)) == pytest.approx(1 / np.sqrt(2), rel=0.01)
    assert level_dbfs(tone(440, 0.5, amplitude=0.1)) == pytest.approx(-23.0, abs=0.1)
    assert rms(np.zeros(480, dtype=np.int16)) == 0.0
    assert level_dbfs(np.zeros(480, dtype=np.int16)) == float("-inf")
