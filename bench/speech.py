"""Speech and noise for tests and benchmarks, made offline: espeak-ng voices, noise, WAV files.

``speak`` needs the ``espeak-ng`` program (Debian package ``espeak-ng``). Its clips are cached
on disk (keyed by text, voice and rate) so a test run synthesizes each phrase once.
"""

import hashlib
import io
import os
import subprocess
import tempfile
import wave
from functools import cache
from pathlib import Path

import av
import numpy as np

from bench.vad_measure import noise
from voice.audio.base import PCM_RATE

__all__ = ["noise", "read_wav", "silence", "speak", "write_wav"]  # noise: from vad_measure

CACHE_DIR = Path(tempfile.gettempdir()) / "nexus-espeak-cache"


def speak(text: str, *, voice: str = "en-us", rate_wpm: int = 150) -> np.ndarray:
    """``text`` spoken by espeak-ng as PCM24k (read-only; the same array for the same input)."""
    return _speak(text, voice, rate_wpm)


@cache
def _speak(text: str, voice: str, rate_wpm: int) -> np.ndarray:
    key = hashlib.sha256(f"{voice}\0{rate_wpm}\0{text}".encode()).hexdigest()[:32]
    path = CACHE_DIR / f"{key}.wav"
    if path.exists():
        pcm, _ = read_wav(path)  # stored as PCM24k
    else:
        wav = subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(rate_wpm), "--stdout", text],
            check=True,
            capture_output=True,
        ).stdout
        pcm = to_pcm24k(*read_wav(io.BytesIO(wav)))
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a concurrent test process never reads half a file.
        partial = path.with_suffix(f".{os.getpid()}.part")
        write_wav(partial, pcm, PCM_RATE)
        partial.replace(path)
    pcm.flags.writeable = False
    return pcm


def silence(seconds: float, rate: int = PCM_RATE) -> np.ndarray:
    return np.zeros(round(seconds * rate), dtype=np.int16)


def read_wav(source: Path | io.BytesIO) -> tuple[np.ndarray, int]:
    """A 16-bit mono WAV as (int16 samples, sample rate)."""
    with wave.open(source if isinstance(source, io.BytesIO) else str(source), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise ValueError("expected a 16-bit mono WAV")
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16), wav.getframerate()


def write_wav(
    path: Path | str, pcm: np.ndarray, rate: int = PCM_RATE, *, pad_seconds: float = 0.0
) -> None:
    """Write 16-bit mono WAV, with ``pad_seconds`` of silence before and after the audio.

    Chromium's fake microphone (``--use-file-for-fake-audio-capture``) wants 16-bit WAV and
    loops it from the moment capture starts: ~1 s of padding lets the page get ready first and
    keeps the loops apart.
    """
    pad = silence(pad_seconds, rate)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.concatenate((pad, pcm.astype(np.int16), pad)).tobytes())


def to_pcm24k(pcm: np.ndarray, rate: int) -> np.ndarray:
    """Mono PCM16 at `rate` (espeak-ng speaks at 22 050 Hz, a browser plays at 48 kHz) as PCM24k."""
    return resampled(pcm, rate, PCM_RATE)


def resampled(pcm: np.ndarray, rate: int, to_rate: int) -> np.ndarray:
    """Mono PCM16 at `rate` at `to_rate` instead (a caller's microphone at its own rate)."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=to_rate)
    frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate
    frames = resampler.resample(frame) + resampler.resample(None)
    return np.concatenate([f.to_ndarray().reshape(-1) for f in frames])
