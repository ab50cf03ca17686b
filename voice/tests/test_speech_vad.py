"""The voice-activity detector on silence, noise and espeak-ng speech, in any chunking."""

import numpy as np
import pytest

from bench.speech import noise, resampled, silence, speak
from voice.speech.vad import SpeechEnded, SpeechStarted, VadEvent, VoiceActivityDetector

RATE = 24_000
BOOKING = "hello, I would like to book a haircut"


def feed_in_chunks(detector: VoiceActivityDetector, pcm: np.ndarray, chunk_ms: float) -> list:
    chunk = round(RATE * chunk_ms / 1000)
    return [event for i in range(0, len(pcm), chunk) for event in detector.feed(pcm[i : i + chunk])]


def speech_bounds_ms(clip: np.ndarray, offset_ms: int) -> tuple[int, int]:
    """First and last sample above 1% of the clip's peak, in ms of the stream."""
    loud = np.flatnonzero(np.abs(clip.astype(np.int32)) > 0.01 * np.abs(clip).max())
    return offset_ms + loud[0] * 1000 // RATE, offset_ms + loud[-1] * 1000 // RATE


def test_silence_gives_no_events():
    detector = VoiceActivityDetector()
    assert detector.feed(silence(5.0)) == []
    assert not detector.speaking


@pytest.mark.parametrize("color", ["white", "pink"])
def test_quiet_noise_never_starts_speech(color):
    detector = VoiceActivityDetector()
    events = feed_in_chunks(detector, noise(10.0, -50.0, color=color, seed=7), chunk_ms=20)
    assert not [e for e in events if isinstance(e, SpeechStarted)]


def test_one_utterance_gives_one_start_near_the_onset_and_one_end_after_it():
    clip = speak(BOOKING)
    onset_ms, end_ms = speech_bounds_ms(clip, offset_ms=1000)
    detector = VoiceActivityDetector()
    events = detector.feed(silence(1.0)) + detector.feed(clip[: len(clip) // 2])
    assert detector.speaking
    events += detector.feed(clip[len(clip) // 2 :]) + detector.feed(silence(1.5))

    started, ended = events  # exactly two events, in this order
    assert isinstance(started, SpeechStarted) and isinstance(ended, SpeechEnded)
    assert onset_ms <= started.at_ms <= onset_ms + 300
    assert end_ms < ended.at_ms <= end_ms + 600 + 200
    assert not detector.speaking


def test_two_utterances_apart_give_two_starts_and_two_ends():
    clip = speak(BOOKING)
    stream = np.concatenate((silence(0.5), clip, silence(1.5), clip, silence(1.5)))
    events = VoiceActivityDetector().feed(stream)
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded, SpeechStarted, SpeechEnded]
    second_onset_ms, _ = speech_bounds_ms(clip, offset_ms=(len(clip) + RATE * 2) * 1000 // RATE)
    assert second_onset_ms <= events[2].at_ms <= second_onset_ms + 300


def test_events_do_not_depend_on_chunk_size():
    clip = speak(BOOKING)
    stream = np.concatenate((silence(0.5), clip, silence(1.5), clip, silence(1.0)))
    stream = stream + noise(len(stream) / RATE, -60.0, seed=3)  # so no frame is all zeros
    small: list[VadEvent] = feed_in_chunks(VoiceActivityDetector(), stream, chunk_ms=7)
    large: list[VadEvent] = feed_in_chunks(VoiceActivityDetector(), stream, chunk_ms=100)
    assert len(small) == 4
    assert small == large


def test_the_energy_floor_ignores_speech_too_quiet_to_be_the_caller():
    faint = (speak(BOOKING) * 10 ** (-30 / 20)).astype(np.int16)  # ~ -52 dBFS
    stream = np.concatenate((silence(0.5), faint, silence(1.0)))
    assert VoiceActivityDetector().feed(stream) == []
    unfloored = VoiceActivityDetector(min_dbfs=float("-inf")).feed(stream)
    assert [type(e) for e in unfloored] == [SpeechStarted, SpeechEnded]


def test_hysteresis_settings_shape_the_events():
    clip = speak(BOOKING)
    stream = np.concatenate((silence(0.5), clip, silence(1.0)))
    # A 30 s start threshold never fires; a short end threshold splits at the comma pause.
    assert VoiceActivityDetector(start_ms=30_000).feed(stream) == []
    starts = [
        e for e in VoiceActivityDetector(end_ms=60).feed(stream) if isinstance(e, SpeechStarted)
    ]
    assert len(starts) > 1


@pytest.mark.parametrize("rate", [8_000, 16_000, 32_000, 48_000])
def test_speech_at_webrtcvads_own_rates_is_heard_as_it_is_at_24k(rate):
    clip = speak(BOOKING)
    stream = np.concatenate((silence(0.5), clip, silence(1.5), clip, silence(1.5)))
    at_24k = VoiceActivityDetector().feed(stream)

    as_sent, detector = resampled(stream, RATE, rate), VoiceActivityDetector(rate=rate)
    chunk = rate * 40 // 1000
    events = [
        e for i in range(0, len(as_sent), chunk) for e in detector.feed(as_sent[i : i + chunk])
    ]

    assert [type(e) for e in events] == [type(e) for e in at_24k]
    assert [e.at_ms for e in events] == pytest.approx([e.at_ms for e in at_24k], abs=40)


@pytest.mark.parametrize(
    "kwargs", [{"aggressiveness": 4}, {"start_ms": 0}, {"end_ms": -20}, {"rate": 44_100}]
)
def test_invalid_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        VoiceActivityDetector(**kwargs)
