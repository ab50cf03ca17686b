"""The callers' signal as a browser's MediaRecorder sends it: WebM/Opus in timeslice chunks.

MediaRecorder records Opus at 48 kHz mono in 20 ms packets, muxes them into a live WebM stream
(written once, never seeked) and hands over, every timeslice, the bytes made meanwhile: the
first chunk holds the EBML header and the track, every chunk whole blocks. Here PyAV's libopus
and its WebM muxer make the stream in memory, and it is cut after each timeslice's last block.
The signal's bursts start on packet boundaries, so each starts a chunk.
"""

import io
import itertools
from functools import cache

import av

from bench.tones import Chunks, burst_starts, signal

RATE = 48_000
PACKET_MS = 20
BITRATE = 32_000


class LiveOutput(io.RawIOBase):
    """A write-only, non-seekable sink: the muxer writes a live stream, as MediaRecorder does."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.data += data
        return len(data)


def timeslice_ms(frame_ms: int) -> int:
    """The chunk length for callers that declare `frame_ms`: whole Opus packets."""
    return max(frame_ms, PACKET_MS)


@cache
def mediarecorder_chunks(seconds: float, frame_ms: int) -> Chunks:
    """`seconds` of the signal as WebM/Opus chunks of `timeslice_ms(frame_ms)`."""
    pcm = signal(seconds, RATE)
    size = RATE * PACKET_MS // 1000
    sink = LiveOutput()
    payloads = []
    with av.open(sink, "w", format="webm", options={"live": "1"}) as container:
        stream = container.add_stream("libopus", rate=RATE, layout="mono")
        stream.codec_context.bit_rate = BITRATE
        for start in range(0, len(pcm) - size + 1, size):
            frame = av.AudioFrame.from_ndarray(pcm[None, start : start + size], layout="mono")
            frame.sample_rate, frame.pts = RATE, start
            packets = stream.encode(frame)
            payloads += [bytes(packet) for packet in packets]
            container.mux(packets)
        packets = stream.encode(None)
        payloads += [bytes(packet) for packet in packets]
        container.mux(packets)
    slices = max(1, len(pcm) // size * PACKET_MS // timeslice_ms(frame_ms))
    return _cut(bytes(sink.data), payloads, timeslice_ms(frame_ms), slices)


def _cut(data: bytes, payloads: list[bytes], slice_ms: int, slices: int) -> Chunks:
    """`data` cut into `slices` chunks of `slice_ms` of packets: the header goes with the first,
    the encoder's last packet and the stream's end with the last, as when recording stops."""
    per_chunk = slice_ms // PACKET_MS
    ends, at = [], 0
    for payload in payloads:
        at = data.index(payload, at) + len(payload)
        ends.append(at)
    cuts = [0, *ends[per_chunk - 1 :: per_chunk][: slices - 1], len(data)]
    return [
        (data[a:b], burst_starts(index, slice_ms))
        for index, (a, b) in enumerate(itertools.pairwise(cuts))
    ]


def opus_packets(data: bytes) -> tuple[bytes, list[bytes]]:
    """The OpusHead and the Opus packets of a WebM/Opus stream (for the libopus floor)."""
    with av.open(io.BytesIO(data), mode="r", format="webm") as container:
        stream = container.streams.audio[0]
        head = bytes(stream.codec_context.extradata or b"")
        packets = [bytes(p) for p in container.demux(stream) if p.size]
    return head, packets
