"""The codec work of the calls, bare: what the bridge costs at the very least, in this process.

For one caller format, `calls` calls on the same audio as the simulated callers, with fresh
per-call codec state as in the server, interleaved as the server meets them (every call's first
frame, then every call's second, ...; the sidecar's pages when their 80 ms step is due): the
caller's format decoded to PCM24k (resampling included), the caller-speech VAD (on the samples as
sent where the server's is: PCM16 at a rate webrtcvad takes), Ogg/Opus encode to the sidecar at
the bridge's frame length and complexity, decode of the sidecar's pages and the caller's PCM16
output encode. The sidecar's pages are made beforehand, untimed, as the emulator
makes them: `sphn`, one 80 ms step at a time. The VAD is also timed alone, for reference. Each
is timed `REPEATS` times afresh and the least CPU kept: other work on the machine only adds.

The libopus floor is the part no bridge can do without: PyAV's libopus encoder at the bridge's
settings on the same audio, the bridge's Opus decoder (FFmpeg's own, cheaper than libopus's)
decoding the sidecar's Opus packets and, for an Opus caller format, the caller's; no container,
no resampling, no VAD, no Python stage.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import av
import numpy as np
import sphn

from bench.formats import CallerFormat
from bench.webm import PACKET_MS, opus_packets
from voice.audio.base import FULL_SCALE, PCM_RATE, CallerAudio, join_pcm
from voice.audio.formats import OggOpusStreamDecoder, OggOpusStreamEncoder, caller_encoder
from voice.audio.ogg import OggPacketReader
from voice.audio.opus import OPUS_DECODER
from voice.call.barge_in import caller_speech_detector
from voice.engines.personaplex import SIDECAR_COMPLEXITY
from voice.sidecar.emulator import FRAME_SAMPLES

STEP_SECONDS = FRAME_SAMPLES / PCM_RATE  # the emulator's step
SIDECAR_BITRATE = 32_000  # OggOpusStreamEncoder's, as the bridge uses it
REPEATS = 3


@dataclass(frozen=True)
class CodecBaseline:
    codec_cpu: float  # seconds, all calls
    vad_cpu: float  # seconds, all calls
    floor_cpu: float  # seconds, all calls: libopus alone
    call_minutes: float

    @property
    def codec_per_call_minute(self) -> float:
        return self.codec_cpu / self.call_minutes

    @property
    def vad_per_call_minute(self) -> float:
        return self.vad_cpu / self.call_minutes

    @property
    def floor_per_call_minute(self) -> float:
        return self.floor_cpu / self.call_minutes


def timeline(*streams: Sequence[float]) -> list[tuple[int, int]]:
    """(stream, item) of every item of `streams` (each a list of due times), by due time; at the
    same time, in the order the streams are given."""
    due = [
        (at, stream, item) for stream, times in enumerate(streams) for item, at in enumerate(times)
    ]
    return [(stream, item) for _, stream, item in sorted(due)]


def _every(count: int, seconds: float, first: float = 0.0) -> list[float]:
    return [first + index * seconds for index in range(count)]


def _sidecar_steps(pcm: np.ndarray) -> list[list[bytes]]:
    """`pcm` (PCM24k) as the emulator's Ogg pages, per 80 ms `sphn` step."""
    writer = sphn.OpusStreamWriter(PCM_RATE)
    audio = pcm.astype(np.float32) / FULL_SCALE
    steps = []
    for start in range(0, len(audio) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        writer.append_pcm(audio[start : start + FRAME_SAMPLES])
        pages = []
        while page := writer.read_bytes():
            pages.append(page)
        steps.append(pages)
    return steps


def _timed(work: Callable[[], None]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def _bridge_cpu(
    caller_format: CallerFormat,
    frame_ms: int,
    calls: int,
    chunks: list[bytes],
    steps: list[list[bytes]],
) -> float:
    decoders = [caller_format.decoder() for _ in range(calls)]
    uplinks = [
        (
            decoder,
            caller_speech_detector(decoder.speech_rate),
            OggOpusStreamEncoder(frame_ms=frame_ms, complexity=SIDECAR_COMPLEXITY),
        )
        for decoder in decoders
    ]
    downlinks = [(OggOpusStreamDecoder(), caller_encoder("pcm16")) for _ in range(calls)]
    chunk_seconds = caller_format.chunk_ms(frame_ms) / 1000
    order = timeline(
        _every(len(chunks), chunk_seconds), _every(len(steps), STEP_SECONDS, STEP_SECONDS)
    )

    def work() -> None:
        for stream, item in order:
            if stream == 0:
                for decoder, vad, encoder in uplinks:
                    audio = decoder.decode(chunks[item])
                    vad.feed(audio.speech)
                    encoder.encode(audio.pcm)
            else:
                for from_sidecar, to_caller in downlinks:
                    for page in steps[item]:
                        to_caller.encode(from_sidecar.decode(page))

    cpu = _timed(work)
    for decoder, _, _ in uplinks:
        decoder.close()
    return cpu


def _vad_cpu(calls: int, decoded: list[CallerAudio]) -> float:
    detectors = [caller_speech_detector(decoded[0].speech_rate) for _ in range(calls)]

    def work() -> None:
        for audio in decoded:
            for vad in detectors:
                vad.feed(audio.speech)

    return _timed(work)


def _opus_decoder(head: bytes) -> av.AudioCodecContext:
    codec = av.CodecContext.create(OPUS_DECODER, "r")
    codec.extradata = head
    codec.open()
    return codec


def _opus_encoder(frame_ms: int) -> av.AudioCodecContext:
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate, codec.layout, codec.format = PCM_RATE, "mono", "s16"
    codec.bit_rate = SIDECAR_BITRATE
    codec.options = {"frame_duration": str(frame_ms), "compression_level": str(SIDECAR_COMPLEXITY)}
    codec.open()
    return codec


def _audio_frames(pcm: np.ndarray, frame_ms: int) -> list[av.AudioFrame]:
    size = PCM_RATE * frame_ms // 1000
    frames = []
    for start in range(0, len(pcm) - size + 1, size):
        frame = av.AudioFrame.from_ndarray(
            pcm[None, start : start + size], format="s16", layout="mono"
        )
        frame.sample_rate, frame.pts = PCM_RATE, start
        frames.append(frame)
    return frames


def _floor_cpu(
    caller_format: CallerFormat,
    frame_ms: int,
    calls: int,
    chunks: list[bytes],
    decoded: np.ndarray,
    steps: list[list[bytes]],
) -> float:
    frames = _audio_frames(decoded, frame_ms)
    reader = OggPacketReader()
    packets = [[packet for page in pages for packet in reader.feed(page)[0]] for pages in steps]
    sidecar_head = next(p for step in packets for p in step if p.startswith(b"OpusHead"))
    sidecar = [[av.Packet(p) for p in step if not p.startswith(b"Opus")] for step in packets]
    caller_head, caller_packets = b"", []
    if caller_format.opus:
        caller_head, payloads = opus_packets(b"".join(chunks))
        caller_packets = [av.Packet(payload) for payload in payloads]
    encoders = [_opus_encoder(frame_ms) for _ in range(calls)]
    sidecar_decoders = [_opus_decoder(sidecar_head) for _ in range(calls)]
    caller_decoders = [_opus_decoder(caller_head) for _ in range(calls)] if caller_packets else []
    order = timeline(
        _every(len(caller_packets), PACKET_MS / 1000),
        _every(len(frames), frame_ms / 1000),
        _every(len(sidecar), STEP_SECONDS, STEP_SECONDS),
    )

    def work() -> None:
        for stream, item in order:
            if stream == 0:
                for decoder in caller_decoders:
                    decoder.decode(caller_packets[item])
            elif stream == 1:
                for encoder in encoders:
                    encoder.encode(frames[item])
            else:
                for decoder in sidecar_decoders:
                    for packet in sidecar[item]:
                        decoder.decode(packet)

    return _timed(work)


def codec_baseline(
    *, caller_format: CallerFormat, frame_ms: int, calls: int, seconds: float
) -> CodecBaseline:
    """Time the codec pipeline of `calls` calls of `seconds` each, the VAD alone, the floor."""
    chunks = [chunk for chunk, _ in caller_format.chunks(seconds, frame_ms)]
    decoder = caller_format.decoder()
    decoded_chunks = [decoder.decode(chunk) for chunk in chunks]
    decoder.close()
    decoded = join_pcm([audio.pcm for audio in decoded_chunks])
    steps = _sidecar_steps(decoded)
    codec_cpu = min(
        _bridge_cpu(caller_format, frame_ms, calls, chunks, steps) for _ in range(REPEATS)
    )
    vad_cpu = min(_vad_cpu(calls, decoded_chunks) for _ in range(REPEATS))
    floor_cpu = min(
        _floor_cpu(caller_format, frame_ms, calls, chunks, decoded, steps) for _ in range(REPEATS)
    )
    streamed = len(chunks) * caller_format.chunk_ms(frame_ms) / 1000
    return CodecBaseline(codec_cpu, vad_cpu, floor_cpu, calls * streamed / 60)
