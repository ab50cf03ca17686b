"""The sidecar's Ogg/Opus stream, both ways, checked against sphn (what PersonaPlex runs)."""

import io
import itertools
import struct
import time

import av
import numpy as np
import pytest
import sphn

from bench.signals import dominant_frequency, tone
from voice.audio import (
    PCM_RATE,
    AudioDecodeError,
    OggOpusStreamDecoder,
    OggOpusStreamEncoder,
    caller_decoder,
    caller_encoder,
)
from voice.audio.base import rms
from voice.tests.test_audio_ogg import reference_crc

FRAME = 480  # 20 ms at 24 kHz


def parse_page(data: bytes) -> dict:
    """Read one Ogg page from the start of ``data`` (RFC 3533), checking its CRC."""
    assert data[:4] == b"OggS"
    version, flags, granule, serial, sequence, crc, segments = struct.unpack_from(
        "<BBqIIIB", data, 4
    )
    lacing = list(data[27 : 27 + segments])
    size = 27 + segments + sum(lacing)
    assert version == 0
    assert crc == reference_crc(data[:22] + bytes(4) + data[26:size])
    packets, current = [], b""
    body = data[27 + segments : size]
    for length in lacing:
        current, body = current + body[:length], body[length:]
        if length < 255:
            packets.append(current)
            current = b""
    return {
        "flags": flags,
        "granule": granule,
        "serial": serial,
        "sequence": sequence,
        "packets": packets,
        "complete": current == b"",
        "size": size,
    }


def split_pages(stream: bytes) -> list[bytes]:
    pages = []
    while stream:
        size = parse_page(stream)["size"]
        pages.append(stream[:size])
        stream = stream[size:]
    return pages


def sphn_read(messages: list[bytes], samples: int, timeout: float = 10.0) -> np.ndarray:
    """Decode with sphn as the PersonaPlex server does (its reader decodes in the background)."""
    reader = sphn.OpusStreamReader(PCM_RATE)
    for message in messages:
        reader.append_bytes(message)
    parts, total, deadline = [], 0, time.monotonic() + timeout
    while total < samples and time.monotonic() < deadline:
        pcm = reader.read_pcm()
        parts.append(pcm)
        total += len(pcm)
        if not len(pcm):
            time.sleep(0.01)
    return np.concatenate(parts)


def sphn_pages(pcm: np.ndarray) -> list[bytes]:
    """The pages a PersonaPlex server sends for ``pcm``: one 80 ms packet per page."""
    writer = sphn.OpusStreamWriter(PCM_RATE)
    stream = writer.read_bytes()
    floats = pcm.astype(np.float32) / 32768
    for start in range(0, len(floats) - 1919, 1920):
        writer.append_pcm(floats[start : start + 1920])
        stream += writer.read_bytes()
    return split_pages(stream)


def test_first_20ms_give_the_headers_and_one_audio_page():
    encoder = OggOpusStreamEncoder()

    pages = encoder.encode(tone(440, 0.02))

    assert len(pages) == 3
    head, tags, audio = (parse_page(page) for page in pages)
    assert head["packets"][0].startswith(b"OpusHead") and head["flags"] == 0x02
    assert head["packets"][0][9] == 1  # mono
    assert int.from_bytes(head["packets"][0][12:16], "little") == PCM_RATE
    assert tags["packets"][0].startswith(b"OpusTags")
    assert audio["granule"] == 960  # 20 ms in the 48 kHz units of RFC 7845


def test_40ms_frames_leave_as_one_40ms_packet_each_and_decode_back():
    encoder = OggOpusStreamEncoder(frame_ms=40, complexity=5)
    signal = tone(440, 0.4)

    pages = [
        page
        for start in range(0, len(signal), 960)
        for page in (encoder.encode(signal[start : start + 960]))
    ]

    audio = [parse_page(page) for page in pages[2:]]
    assert len(audio) == 10  # one page per 40 ms fed, at once
    assert [page["granule"] for page in audio] == [1920 * (n + 1) for n in range(10)]
    decoded = OggOpusStreamDecoder().decode(b"".join(pages))
    assert dominant_frequency(decoded[4800:]) == pytest.approx(440, abs=5)


def test_every_20ms_leave_at_once_one_packet_per_page():
    # Given audio fed in chunks that do not line up with 20 ms frames
    encoder = OggOpusStreamEncoder(serial=1234)
    pcm = tone(440, 1.0)
    chunk_sizes = np.random.default_rng(3).integers(1, 1500, 200)
    fed, pages, position = 0, [], 0
    for size in chunk_sizes:
        chunk = pcm[position : position + size]
        position += len(chunk)
        # When each chunk is encoded
        returned = encoder.encode(chunk)
        pages += returned
        fed += len(chunk)
        # Then every completed 20 ms frame has left already: no page is held back
        assert len(pages) - 2 == fed // FRAME
        if position >= len(pcm):
            break

    # and each element is exactly one valid page holding exactly one whole packet
    parsed = [parse_page(page) for page in pages]
    assert all(page["size"] == len(raw) for page, raw in zip(parsed, pages, strict=True))
    assert all(len(page["packets"]) == 1 and page["complete"] for page in parsed)
    assert [page["sequence"] for page in parsed] == list(range(len(pages)))
    assert {page["serial"] for page in parsed} == {1234}
    assert [page["granule"] for page in parsed[2:]] == [960 * n for n in range(1, len(pages) - 1)]


def test_sphn_reads_our_stream_as_the_tone_we_sent():
    encoder = OggOpusStreamEncoder()
    pcm = tone(440, 1.0)
    pages = []
    for start in range(0, len(pcm), 1000):
        pages += encoder.encode(pcm[start : start + 1000])

    decoded = sphn_read(pages, samples=len(pcm) - 2 * FRAME)

    assert len(decoded) >= len(pcm) - 2 * FRAME
    assert dominant_frequency(decoded) == pytest.approx(440, abs=2)
    assert rms(decoded[FRAME:]) == pytest.approx(rms(pcm), rel=0.2)


def test_flush_ends_the_stream_with_exactly_the_audio_fed():
    encoder = OggOpusStreamEncoder()
    pcm = tone(440, 0.5)
    stream = b"".join(encoder.encode(pcm[:1234]) + encoder.encode(pcm[1234:]) + encoder.flush())

    last = parse_page(split_pages(stream)[-1])
    container = av.open(io.BytesIO(stream), format="ogg")  # FFmpeg's own demuxer, as a check
    decoded = sum(frame.samples for frame in container.decode(audio=0))

    assert last["flags"] == 0x04  # EOS
    assert decoded == len(pcm) * 2  # FFmpeg decodes at 48 kHz and trims exactly the padding


def test_sphn_pages_decode_one_page_at_a_time():
    # Given the pages a PersonaPlex server would send, one per message
    pages = sphn_pages(tone(440, 1.0))
    decoder = OggOpusStreamDecoder()

    # When each page is decoded as it arrives
    outputs = [decoder.decode(page) for page in pages]

    # Then every audio page after the first (which the Opus pre-skip swallows) gives its 80 ms
    # at once, without waiting for the next page
    audio_outputs = outputs[3:]
    assert all(outputs[i].size == 0 for i in range(3))
    assert all(abs(len(pcm) - 1920) <= 32 for pcm in audio_outputs)
    decoded = np.concatenate(outputs)
    assert dominant_frequency(decoded) == pytest.approx(440, abs=2)


def test_our_encoder_and_decoder_round_trip_page_by_page():
    encoder, decoder = OggOpusStreamEncoder(), OggOpusStreamDecoder()

    decoded = np.concatenate([decoder.decode(page) for page in encoder.encode(tone(440, 0.5))])

    assert abs(len(decoded) - 12_000) <= 2 * FRAME
    assert dominant_frequency(decoded) == pytest.approx(440, abs=2)


def test_decoder_survives_garbage_between_pages():
    pages = sphn_pages(tone(440, 1.0))
    decoder = OggOpusStreamDecoder()
    before = [decoder.decode(page) for page in pages[:6]]

    with pytest.raises(AudioDecodeError, match="not valid Ogg"):
        decoder.decode(b"this is not ogg" + pages[6])

    after = [decoder.decode(page) for page in pages[7:]]
    # the page that arrived with the garbage was decoded too, and comes out of the next call
    assert len(after[0]) > len(after[1])
    assert dominant_frequency(np.concatenate(after)) == pytest.approx(440, abs=2)
    assert sum(map(len, before + after)) >= 24_000 - 4 * 1920


def test_decoder_refuses_audio_before_opus_head():
    pages = sphn_pages(tone(440, 0.5))
    decoder = OggOpusStreamDecoder()

    with pytest.raises(AudioDecodeError, match="before any OpusHead"):
        decoder.decode(b"".join(pages[2:]))


def test_caller_ogg_opus_at_48k_in_any_chunking():
    # Given an Ogg/Opus recording made by FFmpeg's muxer at 48 kHz (as a browser would send it)
    output = io.BytesIO()
    with av.open(output, "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=48_000, layout="mono")
        pcm = tone(440, 1.0, 48_000)
        for start in range(0, len(pcm), 960):
            frame = av.AudioFrame.from_ndarray(pcm[None, start : start + 960], layout="mono")
            frame.sample_rate, frame.pts = 48_000, start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    data = output.getvalue()
    decoder = caller_decoder("ogg-opus", PCM_RATE)

    # When it is fed in random chunks
    rng = np.random.default_rng(5)
    cuts = [0, *sorted(rng.choice(np.arange(1, len(data)), 60, replace=False)), len(data)]
    parts = [decoder.decode(data[start:end]) for start, end in itertools.pairwise(cuts)]
    decoded = np.concatenate([*parts, decoder.flush()])

    # Then one second of 440 Hz comes out at 24 kHz
    assert abs(len(decoded) - PCM_RATE) <= 2 * FRAME
    assert dominant_frequency(decoded) == pytest.approx(440, abs=2)


def test_caller_ogg_opus_output_is_the_page_per_message_stream():
    encoder = caller_encoder("ogg-opus")

    messages = encoder.encode(tone(440, 0.1))

    assert len(messages) == 2 + 5
    assert all(len(parse_page(message)["packets"]) == 1 for message in messages)
