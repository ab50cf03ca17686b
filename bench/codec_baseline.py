"""The codec work of the calls, bare: what the bridge costs at the very least, in this process.

For every call, on the same audio as the simulated callers, with fresh per-call codec state as in
the server: PCM16 16 kHz decode and resample to 24 kHz (`caller_decoder("pcm16", 16000)`),
Ogg/Opus encode to the sidecar (`OggOpusStreamEncoder`), decode of the sidecar's pages
(`OggOpusStreamDecoder`) and the caller's PCM16 output encode (`caller_encoder("pcm16")`). The
sidecar's pages are made beforehand, untimed, as the emulator makes them: `sphn`, one 80 ms step
at a time. The caller-side VAD the server also runs on every chunk is timed apart, for reference.
"""

import time
from dataclasses import dataclass

import numpy as np
import sphn

from bench.tones import RATE, caller_chunks
from voice.audio.base import FULL_SCALE, PCM_RATE
from voice.audio.formats import (
    OggOpusStreamDecoder,
    OggOpusStreamEncoder,
    caller_decoder,
    caller_encoder,
)
from voice.call.barge_in import caller_speech_detector
from voice.sidecar.emulator import FRAME_SAMPLES


@dataclass(frozen=True)
class CodecBaseline:
    codec_cpu: float  # seconds, all calls
    vad_cpu: float  # seconds, all calls
    call_minutes: float

    @property
    def codec_per_call_minute(self) -> float:
        return self.codec_cpu / self.call_minutes

    @property
    def vad_per_call_minute(self) -> float:
        return self.vad_cpu / self.call_minutes


def _sidecar_pages(pcm: np.ndarray) -> list[bytes]:
    """`pcm` (PCM24k) as the emulator's Ogg pages: one `sphn` step of 80 ms at a time."""
    writer = sphn.OpusStreamWriter(PCM_RATE)
    audio = pcm.astype(np.float32) / FULL_SCALE
    pages = []
    for start in range(0, len(audio) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        writer.append_pcm(audio[start : start + FRAME_SAMPLES])
        while page := writer.read_bytes():
            pages.append(page)
    return pages


def _one_call(chunks: list[bytes], pages: list[bytes]) -> None:
    decoder, to_sidecar = caller_decoder("pcm16", RATE), OggOpusStreamEncoder()
    for chunk in chunks:
        to_sidecar.encode(decoder.decode(chunk))
    from_sidecar, to_caller = OggOpusStreamDecoder(), caller_encoder("pcm16")
    for page in pages:
        to_caller.encode(from_sidecar.decode(page))


def codec_baseline(*, calls: int, seconds: float) -> CodecBaseline:
    """Time the codec pipeline of `calls` calls of `seconds` each, then the VAD alone."""
    chunks = [chunk for chunk, _ in caller_chunks(seconds)]
    decoder = caller_decoder("pcm16", RATE)
    decoded = [decoder.decode(chunk) for chunk in chunks]
    pages = _sidecar_pages(np.concatenate(decoded))
    started = time.process_time()
    for _ in range(calls):
        _one_call(chunks, pages)
    codec_cpu = time.process_time() - started
    started = time.process_time()
    for _ in range(calls):
        vad = caller_speech_detector()
        for pcm in decoded:
            vad.feed(pcm)
    vad_cpu = time.process_time() - started
    return CodecBaseline(codec_cpu, vad_cpu, calls * seconds / 60)
