"""WebM/Opus from MediaRecorder: the live stream read as it arrives, chunk by chunk."""

import itertools

import numpy as np
import pytest

from bench.signals import dominant_frequency, tone
from voice.audio import PCM_RATE, AudioDecodeError, caller_decoder
from voice.audio.webm import WebmOpusReader
from voice.tests.audio_fixtures import mediarecorder_webm

CLUSTER = bytes.fromhex("1f43b675")


def random_chunks(data: bytes, seed: int = 11) -> list[bytes]:
    rng = np.random.default_rng(seed)
    chunks, position = [], 0
    while position < len(data):
        size = int(rng.integers(1, 900))
        chunks.append(data[position : position + size])
        position += size
    return chunks


def test_webm_in_random_chunks_gives_the_tone_back_as_it_arrives():
    # Given one second of 440 Hz recorded as live WebM/Opus
    data = mediarecorder_webm(tone(440, 1.0, 48_000))
    assert data.startswith(b"\x1a\x45\xdf\xa3")
    decoder = caller_decoder("webm-opus", PCM_RATE)

    # When it arrives in random chunks
    parts = [decoder.decode(chunk) for chunk in random_chunks(data)]
    tail = decoder.flush()

    # Then the audio came back from the calls that fed it, not only at the end
    streamed = sum(map(len, parts))
    assert streamed >= PCM_RATE - 2 * 480
    # and it is one second of 440 Hz at 24 kHz
    decoded = np.concatenate([*parts, tail])
    assert abs(len(decoded) - PCM_RATE) <= 480
    assert dominant_frequency(decoded) == pytest.approx(440, abs=2)


def test_garbage_raises_instead_of_hanging_and_a_new_recording_recovers():
    garbage = np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    decoder = caller_decoder("webm-opus", PCM_RATE)

    for _ in range(2):  # the decoder keeps saying so, chunk after chunk
        with pytest.raises(AudioDecodeError, match="EBML"):
            decoder.decode(garbage)
    with pytest.raises(AudioDecodeError, match="invalid WebM"):  # looks like WebM, is not
        decoder.decode(b"\x1a\x45\xdf\xa3" + garbage)
        for _ in range(100):  # FFmpeg may read on for a while (here ~160 kB) before it gives up
            decoder.decode(garbage)

    recording = mediarecorder_webm(tone(440, 0.5, 48_000))
    decoded = np.concatenate([decoder.decode(chunk) for chunk in random_chunks(recording)])
    decoder.close()
    assert dominant_frequency(decoded) == pytest.approx(440, abs=2)


def test_a_header_split_across_chunks_and_a_second_recording_inside_the_stream_both_decode():
    # Given two recordings back to back (MediaRecorder restarted), 440 Hz then 660 Hz, sent as
    # a browser sends them: the first byte of each EBML header in a chunk of its own
    first = mediarecorder_webm(tone(440, 1.0, 48_000))
    second = mediarecorder_webm(tone(660, 1.0, 48_000))
    chunks = [first[:1], *random_chunks(first[1:]), second[:1], *random_chunks(second[1:], 5)]
    decoder = caller_decoder("webm-opus", PCM_RATE)

    # When they arrive
    decoded = np.concatenate([decoder.decode(chunk) for chunk in chunks])

    # Then both recordings came back, one after the other
    middle = len(decoded) // 2
    assert abs(len(decoded) - 2 * PCM_RATE) <= 2 * 480
    assert dominant_frequency(decoded[: middle - 960]) == pytest.approx(440, abs=2)
    assert dominant_frequency(decoded[middle + 960 :]) == pytest.approx(660, abs=2)


def test_damage_inside_a_stream_is_reported_and_the_stream_reads_on_from_the_next_cluster():
    # Given three seconds of 440 Hz, its first cluster damaged by a run of zero bytes
    data = mediarecorder_webm(tone(440, 3.0, 48_000))
    first, second, *_ = (index for index in range(len(data)) if data.startswith(CLUSTER, index))
    damage_at = (first + second) // 2
    decoder = caller_decoder("webm-opus", PCM_RATE)
    before = decoder.decode(data[:damage_at])

    # When the damage arrives, then the rest of its cluster, then the clusters after it
    with pytest.raises(AudioDecodeError, match="damaged WebM bytes skipped"):
        decoder.decode(b"\x00" * 300)
    with pytest.raises(AudioDecodeError, match="damaged WebM bytes skipped"):
        decoder.decode(data[damage_at : second + 100])
    rest = data[second + 100 :]
    after = np.concatenate([decoder.decode(chunk) for chunk in random_chunks(rest)])

    # Then the audio before the damage came back, and every cluster after it
    assert dominant_frequency(before) == pytest.approx(440, abs=2)
    assert len(after) >= 2 * PCM_RATE - 480
    assert dominant_frequency(after) == pytest.approx(440, abs=2)


def test_clusters_of_unknown_size_are_read_as_a_browser_writes_them():
    data = bytearray(mediarecorder_webm(tone(440, 0.5, 48_000)))
    size_at = data.index(CLUSTER) + len(CLUSTER)
    assert data[size_at] >> 6 == 0b01  # a two-byte size: all ones means "unknown"
    data[size_at : size_at + 2] = b"\x7f\xff"

    decoded = caller_decoder("webm-opus", PCM_RATE).decode(bytes(data))

    assert len(decoded) >= PCM_RATE // 2 - 2 * 480
    assert dominant_frequency(decoded) == pytest.approx(440, abs=2)


def xiph_laced(frames: list[bytes]) -> bytes:
    sizes = b"".join(bytes([255] * (len(f) // 255) + [len(f) % 255]) for f in frames[:-1])
    return bytes([len(frames) - 1]) + sizes + b"".join(frames)


def ebml_laced(frames: list[bytes]) -> bytes:
    first = (0x4000 | len(frames[0])).to_bytes(2, "big")  # two-byte EBML numbers
    deltas = [len(b) - len(a) + 0x1FFF for a, b in itertools.pairwise(frames[:-1])]
    sizes = first + b"".join((0x4000 | delta).to_bytes(2, "big") for delta in deltas)
    return bytes([len(frames) - 1]) + sizes + b"".join(frames)


def fixed_laced(frames: list[bytes]) -> bytes:
    return bytes([len(frames) - 1]) + b"".join(frames)


@pytest.mark.parametrize(
    ("lacing", "lace", "sizes"),
    [(1, xiph_laced, [300, 20, 77]), (3, ebml_laced, [300, 20, 77]), (2, fixed_laced, [40] * 3)],
)
def test_laced_blocks_give_each_frame(lacing, lace, sizes):
    # Given a stream whose Opus track's one block laces three frames
    frames = [bytes([index + 1]) * size for index, size in enumerate(sizes)]
    data = mediarecorder_webm(tone(440, 0.1, 48_000))
    block_at = data.index(b"\xa3", data.index(CLUSTER))
    head = data[: data.index(CLUSTER)]
    payload = b"\x81\x00\x00" + bytes([0x80 | lacing << 1]) + lace(frames)
    block = b"\xa3" + (0x4000 | len(payload)).to_bytes(2, "big") + payload
    cluster = CLUSTER + b"\x01\xff\xff\xff\xff\xff\xff\xff" + block
    assert block_at > len(head)

    # When it is read
    packets, damaged = WebmOpusReader().feed(head + cluster)

    # Then the OpusHead comes first, then the three frames as they were laced
    assert packets[0].startswith(b"OpusHead")
    assert packets[1:] == frames
    assert damaged == 0
