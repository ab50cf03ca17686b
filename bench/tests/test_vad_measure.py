"""The VAD measurement: it reports what it should, on the obvious cases (figures are benchmarks)."""

import numpy as np
import pytest

from bench.speech import speak
from bench.vad_measure import noise, vad_measure
from voice.audio.base import level_dbfs
from voice.speech.vad import VoiceActivityDetector


@pytest.mark.parametrize("color", ["white", "pink"])
@pytest.mark.parametrize("dbfs", [-50.0, -30.0])
def test_noise_has_the_level_asked_for(color, dbfs):
    assert level_dbfs(noise(2.0, dbfs, color=color)) == pytest.approx(dbfs, abs=0.1)


def test_pink_noise_has_more_low_than_high_frequencies_and_white_noise_does_not():
    def low_to_high(pcm: np.ndarray) -> float:
        power = np.abs(np.fft.rfft(pcm.astype(np.float64))) ** 2
        freqs = np.fft.rfftfreq(len(pcm), 1 / 24_000)
        return power[(freqs > 100) & (freqs < 1000)].sum() / power[freqs > 9100].sum()

    assert low_to_high(noise(2.0, -30.0, color="pink")) > 5
    assert 0.2 < low_to_high(noise(2.0, -30.0, color="white")) < 0.5  # 900 Hz vs 2900 Hz bands


def test_noise_is_reproducible_from_its_seed():
    assert np.array_equal(noise(1.0, -40.0, seed=5), noise(1.0, -40.0, seed=5))
    assert not np.array_equal(noise(1.0, -40.0, seed=5), noise(1.0, -40.0, seed=6))


def test_measure_reports_no_false_start_on_quiet_noise_and_detects_clean_speech():
    clips = [speak("hello, I would like to book a haircut"), speak("one two three four five")]
    result = vad_measure(VoiceActivityDetector, speech=clips, seconds=10.0)

    assert set(result.false_starts_per_minute) == {
        "white -50 dBFS",
        "white -40 dBFS",
        "white -30 dBFS",
        "pink -50 dBFS",
        "pink -40 dBFS",
        "pink -30 dBFS",
        "echo -20 dB",
        "echo -30 dB",
    }
    assert result.false_starts_per_minute["white -50 dBFS"] == 0
    assert result.false_starts_per_minute["pink -50 dBFS"] == 0
    assert result.missed == 0
    assert len(result.onset_delays_ms) == len(clips)


def test_measure_counts_starts_per_minute_on_a_detector_that_fires_on_anything():
    # Without its energy floor and with a one-frame start, the detector fires on loud echo.
    def trigger_happy() -> VoiceActivityDetector:
        return VoiceActivityDetector(aggressiveness=0, start_ms=20, end_ms=20, min_dbfs=-200)

    result = vad_measure(trigger_happy, speech=[speak("one two three four five")], seconds=10.0)
    assert result.false_starts_per_minute["echo -20 dB"] >= 6  # at least one per 10 s round
