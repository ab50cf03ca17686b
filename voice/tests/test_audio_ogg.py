"""The Ogg page layer, checked against a plain reading of RFC 3533 written out here."""

import struct

import numpy as np
import pytest

from voice.audio.ogg import BOS, CONTINUED, EOS, OggPacketReader, OggPageWriter, ogg_crc


def reference_crc(data: bytes) -> int:
    """RFC 3533's CRC, bit by bit: polynomial 0x04C11DB7, MSB first, init 0, no final xor."""
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    return crc


def reference_page(body: bytes, lacing: list[int], *, flags=0, serial=1, sequence=0) -> bytes:
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, 0, serial, sequence, 0, len(lacing))
    page = bytearray(header + bytes(lacing) + body)
    page[22:26] = struct.pack("<I", reference_crc(bytes(page)))
    return bytes(page)


@pytest.mark.parametrize("size", [0, 1, 27, 254, 255, 256, 1000, 4096])
def test_crc_matches_the_reference(size):
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()

    assert ogg_crc(data) == reference_crc(data)


@pytest.mark.parametrize("size", [0, 1, 254, 255, 510, 1275])
def test_writer_puts_one_packet_in_one_valid_page(size):
    packet = bytes(range(256)) * 5
    packet = packet[:size]
    writer = OggPageWriter(serial=0xCAFE)

    first = writer.page(packet, granule=960, flags=BOS)
    second = writer.page(b"x", granule=1920, flags=EOS)

    capture, version, flags, granule, serial, sequence, crc, segments = struct.unpack_from(
        "<4sBBqIIIB", first
    )
    lacing = list(first[27 : 27 + segments])
    assert (capture, version, flags, granule, serial, sequence) == (b"OggS", 0, BOS, 960, 0xCAFE, 0)
    assert crc == reference_crc(first[:22] + bytes(4) + first[26:])
    assert lacing == [255] * (size // 255) + [size % 255]  # ends below 255: one whole packet
    assert first[27 + segments :] == packet
    assert second[5] == EOS and struct.unpack_from("<I", second, 18)[0] == 1


def test_writer_refuses_a_packet_larger_than_a_page():
    with pytest.raises(ValueError, match="does not fit"):
        OggPageWriter(serial=1).page(bytes(70_000), granule=0)


def test_reader_reassembles_packets_across_pages_and_any_chunking():
    long_packet = bytes(range(200)) * 3  # 600 bytes, split over two pages
    stream = (
        reference_page(b"head", [4], flags=BOS, sequence=0)
        + reference_page(long_packet[:510], [255, 255], sequence=1)
        + reference_page(long_packet[510:] + b"tail", [90, 4], flags=CONTINUED, sequence=2)
    )

    for chunk_size in (1, 7, 100, len(stream)):
        reader = OggPacketReader()
        packets = []
        for start in range(0, len(stream), chunk_size):
            found, skipped = reader.feed(stream[start : start + chunk_size])
            packets += found
            assert skipped == 0
        assert packets == [b"head", long_packet, b"tail"]


def test_reader_skips_garbage_and_corrupt_pages_then_carries_on():
    good = reference_page(b"one", [3], flags=BOS) + reference_page(b"two", [3], sequence=1)
    corrupt = bytearray(reference_page(b"bad", [3], sequence=2))
    corrupt[-1] ^= 0xFF  # the CRC no longer matches
    after = reference_page(b"three", [5], sequence=3)
    reader = OggPacketReader()

    packets, skipped = reader.feed(good + b"garbage!" + bytes(corrupt) + after)

    assert packets == [b"one", b"two", b"three"]
    assert skipped == len(b"garbage!") + len(corrupt)


def test_reader_follows_only_the_current_logical_stream():
    other = reference_page(b"video", [5], serial=2)
    chained = reference_page(b"second", [6], flags=BOS, serial=3)
    reader = OggPacketReader()

    packets, _ = reader.feed(reference_page(b"first", [5], flags=BOS) + other + chained)

    assert packets == [b"first", b"second"]
