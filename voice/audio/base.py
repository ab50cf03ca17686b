"""What every wire format shares: the internal PCM format, the error type, the interfaces.

Inside Nexus all audio is PCM24k: mono, signed 16-bit, 24 000 Hz, as a 1-D ``numpy.int16``
array. A caller decoder turns one caller's wire bytes into PCM24k; an encoder turns PCM24k into
the messages to send. Both are per call (they hold codec state) and never shared between calls.
Speech detection (and Gemini Live's 16 kHz input) take a caller's PCM16 as sent where they can
(`CallerAudio`), so they resample nothing.
"""

from dataclasses import dataclass
from typing import Protocol

import av
import numpy as np

from nexus_project.errors import ApplicationError

PCM_RATE = 24_000
FULL_SCALE = 32768.0  # int16 full scale: levels in dBFS are relative to it
SPEECH_RATES = frozenset({8_000, 16_000, 32_000, 48_000})  # speech detection takes them as sent


class AudioDecodeError(ApplicationError):
    """Input that cannot be decoded. The decoder that raised it stays usable: feed it on."""

    default_code = "bad_audio"


class CallerDecoder(Protocol):
    def decode(self, data: bytes) -> np.ndarray:
        """Feed wire bytes in any chunking; return the PCM24k decoded so far (maybe empty)."""
        ...

    def flush(self) -> np.ndarray:
        """End of input: return the PCM24k still buffered. The decoder is finished."""
        ...

    def close(self) -> None:
        """Release the decoder's resources (idempotent)."""
        ...


@dataclass(frozen=True, slots=True)
class CallerAudio:
    """A piece of the caller's audio, decoded: PCM24k, and `speech`, the same audio for speech
    detection at `speech_rate`. That is the samples as the caller sent them when they came at
    one of the `SPEECH_RATES` (they need no resampling there), else the PCM24k itself."""

    pcm: np.ndarray
    speech: np.ndarray
    speech_rate: int = PCM_RATE

    @classmethod
    def at_24k(cls, pcm: np.ndarray) -> "CallerAudio":
        return cls(pcm, pcm)

    def after_silence(self, samples: int) -> "CallerAudio":
        """This audio with `samples` of silence (PCM24k) in front of it, and as long in
        `speech`."""
        pcm = _after_silence(self.pcm, samples)
        if self.speech is self.pcm:
            return CallerAudio.at_24k(pcm)
        speech = _after_silence(self.speech, samples * self.speech_rate // PCM_RATE)
        return CallerAudio(pcm, speech, self.speech_rate)


def _after_silence(pcm: np.ndarray, samples: int) -> np.ndarray:
    return np.concatenate((np.zeros(samples, dtype=np.int16), pcm))


class AudioEncoder(Protocol):
    def encode(self, pcm: np.ndarray) -> list[bytes]:
        """Feed PCM24k of any length; return the messages to send now, in order."""
        ...

    def flush(self) -> list[bytes]:
        """End of stream: return the last messages. The encoder is finished."""
        ...


def rms(pcm: np.ndarray) -> float:
    """Root mean square level as a fraction of full scale (0.0 for silence or no samples).

    Takes int16 PCM (full scale `FULL_SCALE`) or float PCM (full scale 1.0, as sphn returns).
    """
    signal = pcm.astype(np.float64)
    if np.issubdtype(pcm.dtype, np.integer):
        signal /= FULL_SCALE
    return float(np.sqrt(np.mean(signal**2))) if signal.size else 0.0


def level_dbfs(pcm: np.ndarray) -> float:
    """RMS level in dB relative to full scale (-inf for digital silence)."""
    level = rms(pcm)
    return float(20 * np.log10(level)) if level > 0 else float("-inf")


def empty_pcm() -> np.ndarray:
    return np.zeros(0, dtype=np.int16)


def join_pcm(parts: list[np.ndarray]) -> np.ndarray:
    """Concatenate PCM24k chunks (no copy for a single chunk)."""
    if not parts:
        return empty_pcm()
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


class PcmResampler:
    """Any PyAV audio frames -> PCM24k, streaming: the filter state spans calls, so no clicks.

    The filter's delay comes out once, as silence before the first frame's audio: from then on
    every frame gives its whole length at once (20 ms in, 20 ms out), so the stages after it
    never wait for a few samples of the next frame to complete one of their own.
    """

    def __init__(self) -> None:
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=PCM_RATE)
        self._started = False

    def convert(self, frame: av.AudioFrame | None) -> np.ndarray:
        """Resample one frame; ``None`` drains the filter at the end of the stream."""
        pcm = join_pcm([f.to_ndarray().reshape(-1) for f in self._resampler.resample(frame)])
        if frame is not None and not self._started:
            self._started = True
            delay = frame.samples * PCM_RATE // frame.sample_rate - len(pcm)
            if delay > 0:
                pcm = np.concatenate((np.zeros(delay, dtype=np.int16), pcm))
        return pcm
