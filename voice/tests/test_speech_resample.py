"""24 kHz -> 16 kHz: frequencies and levels kept, no aliasing, exact and chunking-independent."""

import numpy as np
import pytest

from bench.signals import dominant_frequency, tone
from voice.audio.base import level_dbfs
from voice.speech.resample import Resampler24kTo16k, resample_24k_to_16k


@pytest.mark.parametrize("freq", [200.0, 1000.0, 3400.0, 6000.0])
def test_tones_below_the_passband_edge_keep_frequency_and_level(freq):
    pcm = tone(freq, 1.0)
    out = resample_24k_to_16k(pcm)
    assert len(out) == 16_000
    assert dominant_frequency(out, 16_000) == pytest.approx(freq, abs=1.0)
    assert level_dbfs(out[200:-200]) == pytest.approx(level_dbfs(pcm), abs=0.2)


def test_tones_above_the_new_nyquist_are_removed_not_folded():
    out = resample_24k_to_16k(tone(11_000.0, 1.0))
    assert level_dbfs(out[200:-200]) < level_dbfs(tone(11_000.0, 1.0)) - 60


def test_one_shot_output_is_time_aligned():
    t = np.arange(16_000) / 16_000
    ideal = np.sin(2 * np.pi * 440 * t) * 0.5 * 32767
    out = resample_24k_to_16k(tone(440.0, 1.0))
    assert np.abs(out[50:-50] - ideal[50:-50]).max() < 4  # LSBs


def test_streaming_gives_the_same_samples_in_any_chunking():
    pcm = tone(440.0, 0.5) + tone(2500.0, 0.5, amplitude=0.2)
    whole = Resampler24kTo16k().process(pcm)
    resampler = Resampler24kTo16k()
    pieces = np.concatenate([resampler.process(pcm[i : i + 30]) for i in range(0, len(pcm), 30)])
    assert np.array_equal(whole, pieces)


def test_streaming_needs_whole_groups_of_three_samples():
    with pytest.raises(ValueError):
        Resampler24kTo16k().process(np.zeros(481, dtype=np.int16))
