"""The VAD's false triggers and onset delay, measured by `bench.vad_measure`.

Two detectors: the `VoiceActivityDetector` defaults, and the one calls run (`barge_in`, with its
higher energy floor). Speech comes from espeak-ng (`bench.speech.speak`).
"""

import inspect
from dataclasses import dataclass
from functools import partial

from bench.speech import speak
from bench.vad_measure import VadMeasurement, vad_measure
from voice.call.barge_in import CALLER_SPEECH_FLOOR_DBFS
from voice.speech.vad import VoiceActivityDetector

PHRASES = (
    "hello, I would like to book a haircut for tomorrow morning",
    "what time do you open on saturday",
    "one two three four five",
    "can I speak to someone about my order, please",
)
SECONDS = 60.0  # of noise and of echo per condition
DEFAULT_FLOOR_DBFS = inspect.signature(VoiceActivityDetector).parameters["min_dbfs"].default


@dataclass(frozen=True)
class VadFigures:
    detectors: dict[str, VadMeasurement]  # "defaults" / "calls" -> measurement
    floors: dict[str, float]  # the same keys -> energy floor, dBFS
    clips: int
    seconds: float  # of noise and of echo per condition


def vad_figures() -> VadFigures:
    """Measure both detectors on the same noise, echo and speech (needs espeak-ng)."""
    clips = [speak(phrase) for phrase in PHRASES]
    floors = {"defaults": DEFAULT_FLOOR_DBFS, "calls": CALLER_SPEECH_FLOOR_DBFS}
    detectors = {
        name: vad_measure(
            partial(VoiceActivityDetector, min_dbfs=floor), speech=clips, seconds=SECONDS
        )
        for name, floor in floors.items()
    }
    return VadFigures(detectors, floors, len(clips), SECONDS)
