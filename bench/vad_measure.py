"""Measuring a voice-activity detector: false triggers on noise and echo, delay on speech.

For the project's benchmark (it prints the figures; tests assert only the obvious ends)::

    clips = [speak(text) for text in PHRASES]  # bench.speech
    result = vad_measure(VoiceActivityDetector, speech=clips)

A false trigger is a ``SpeechStarted`` where nobody speaks: white or pink noise at several
levels, or the agent's own voice leaking back from the caller's loudspeaker, attenuated as a
browser's echo canceller leaves it. Speech is given as clips (PCM24k) rather than synthesized
here, so this module needs no speech engine.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from voice.audio.base import FULL_SCALE, PCM_RATE
from voice.speech.vad import SpeechStarted, VoiceActivityDetector

NoiseColor = Literal["white", "pink"]
CHUNK_MS = 20  # what a real-time stream delivers; the detector does not depend on it
ONSET_FRACTION = 0.1  # speech onset: first sample reaching 10% of the clip's peak


@dataclass(frozen=True)
class VadMeasurement:
    false_starts_per_minute: dict[str, float]  # condition ("white -50 dBFS", "echo -20 dB") -> rate
    onset_delays_ms: tuple[int, ...]  # clean clips: SpeechStarted.at_ms - speech onset
    missed: int  # clean clips without any SpeechStarted


def noise(
    seconds: float,
    dbfs: float,
    rate: int = PCM_RATE,
    *,
    color: NoiseColor = "white",
    seed: int = 0,
) -> np.ndarray:
    """Gaussian noise (white, or pink: -3 dB per octave) at an RMS level of ``dbfs``, int16."""
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal(round(seconds * rate))
    if color == "pink":
        spectrum = np.fft.rfft(signal)
        frequencies = np.arange(len(spectrum), dtype=np.float64)
        frequencies[0] = 1.0  # keep the (tiny) DC bin finite
        signal = np.fft.irfft(spectrum / np.sqrt(frequencies), n=len(signal))
    signal *= FULL_SCALE * 10 ** (dbfs / 20) / np.sqrt(np.mean(signal**2))
    return np.clip(np.rint(signal), -32768, 32767).astype(np.int16)


def vad_measure(
    detector_factory: Callable[[], VoiceActivityDetector],
    *,
    speech: Sequence[np.ndarray],
    seconds: float = 60.0,
    noise_dbfs: Sequence[float] = (-50.0, -40.0, -30.0),
    echo_attenuation_db: Sequence[float] = (20.0, 30.0),
) -> VadMeasurement:
    """False starts per minute on noise and echo, and detection delays on clean ``speech``."""
    if not speech:
        raise ValueError("need at least one speech clip")
    conditions: dict[str, np.ndarray] = {}
    for color in ("white", "pink"):
        for level in noise_dbfs:
            conditions[f"{color} {level:g} dBFS"] = noise(seconds, level, color=color)
    for attenuation in echo_attenuation_db:
        conditions[f"echo -{attenuation:g} dB"] = _echo(speech, attenuation, seconds)
    rates = {
        name: len(_start_times(detector_factory(), audio)) * 60 / seconds
        for name, audio in conditions.items()
    }
    delays: list[int] = []
    lead_in = np.zeros(PCM_RATE // 2, dtype=np.int16)
    for clip in speech:
        audio = np.concatenate((lead_in, clip, np.zeros(PCM_RATE, dtype=np.int16)))
        starts = _start_times(detector_factory(), audio)
        if starts:
            onset = len(lead_in) + _onset_sample(clip)
            delays.append(starts[0] - onset * 1000 // PCM_RATE)
    return VadMeasurement(rates, tuple(delays), len(speech) - len(delays))


def _echo(speech: Sequence[np.ndarray], attenuation_db: float, seconds: float) -> np.ndarray:
    """The clips, attenuated, one after another (0.3 s apart) for ``seconds``."""
    gap = np.zeros(PCM_RATE * 3 // 10, dtype=np.int16)
    one_round = np.concatenate([part for clip in speech for part in (clip, gap)])
    total = round(seconds * PCM_RATE)
    looped = np.tile(one_round, -(-total // len(one_round)))[:total]
    return np.rint(looped * 10 ** (-attenuation_db / 20)).astype(np.int16)


def _start_times(detector: VoiceActivityDetector, audio: np.ndarray) -> list[int]:
    chunk = PCM_RATE * CHUNK_MS // 1000
    events = [e for i in range(0, len(audio), chunk) for e in detector.feed(audio[i : i + chunk])]
    return [event.at_ms for event in events if isinstance(event, SpeechStarted)]


def _onset_sample(clip: np.ndarray) -> int:
    magnitude = np.abs(clip.astype(np.int32))
    return int(np.argmax(magnitude >= ONSET_FRACTION * magnitude.max()))
