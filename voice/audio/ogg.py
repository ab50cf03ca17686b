"""Ogg pages (RFC 3533): a writer that puts each packet in its own page, and a packet reader.

Written here rather than left to FFmpeg's Ogg muxer: that muxer always keeps the newest page back
until the next packet arrives (even with ``page_duration`` tiny and ``flush_packets`` on), and
PyAV offers no muxer flush, so every page would leave one Opus frame late. See
``formats/ogg_opus.py``.
"""

import struct
import zlib

CONTINUED = 0x01
BOS = 0x02
EOS = 0x04
_HEADER = struct.Struct("<4sBBqIIIB")  # capture, version, flags, granule, serial, seq, crc, nseg
_MAX_PACKET = 255 * 255 - 1  # the largest packet one page can carry
_MAX_PENDING_PACKET = 1 << 18  # a packet spread over more pages than this is dropped
_REVERSED_BITS = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def ogg_crc(page: bytes | bytearray) -> int:
    """The Ogg CRC-32 (polynomial 0x04C11DB7, MSB first, initial value 0, no final xor).

    zlib computes the bit-reflected CRC-32 in C. Reflecting each input byte, starting zlib's
    register at 0, and reflecting the result gives the Ogg CRC ~50x faster than a Python loop.
    """
    reflected = zlib.crc32(page.translate(_REVERSED_BITS), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)


class OggPageWriter:
    """One logical stream's pages: sequence numbers, flags and CRC."""

    def __init__(self, serial: int) -> None:
        self.serial = serial
        self._sequence = 0

    def page(self, packet: bytes, granule: int, flags: int = 0) -> bytes:
        """A complete page holding exactly ``packet``, ending at ``granule``."""
        if len(packet) > _MAX_PACKET:
            raise ValueError(f"packet of {len(packet)} bytes does not fit one Ogg page")
        lacing = bytes([255] * (len(packet) // 255) + [len(packet) % 255])
        header = _HEADER.pack(
            b"OggS", 0, flags, granule, self.serial, self._sequence, 0, len(lacing)
        )
        page = bytearray(header + lacing + packet)
        page[22:26] = ogg_crc(page).to_bytes(4, "little")
        self._sequence += 1
        return bytes(page)


class OggPacketReader:
    """Ogg bytes in any chunking -> the packets of the current logical stream.

    Bytes that are not a valid page (no capture pattern, wrong version, bad CRC) are skipped up to
    the next capture pattern and counted in the result, so one bad chunk never ends the stream.
    The first page, and then any page with the BOS flag (chained streams), names the logical stream
    to follow; pages of any other stream are ignored.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._serial: int | None = None
        # The start of a packet that continues on the next page; None while skipping the rest of
        # a packet whose start was lost.
        self._pending: bytearray | None = None

    def feed(self, data: bytes) -> tuple[list[bytes], int]:
        """Return the packets completed by ``data`` and the number of invalid bytes skipped."""
        buffer = self._buffer
        buffer += data
        packets: list[bytes] = []
        skipped = 0
        while True:
            start = buffer.find(b"OggS")
            if start < 0:  # keep a tail that may be the start of a capture pattern
                start = max(0, len(buffer) - 3)
            if start:
                skipped += start
                del buffer[:start]
                self._pending = None
            if len(buffer) < 27 or len(buffer) < 27 + buffer[26]:
                break
            lacing = buffer[27 : 27 + buffer[26]]
            size = 27 + len(lacing) + sum(lacing)
            if len(buffer) < size:
                break
            page = bytes(buffer[:size])
            stored_crc = int.from_bytes(page[22:26], "little")
            if page[4] != 0 or ogg_crc(page[:22] + b"\0\0\0\0" + page[26:]) != stored_crc:
                skipped += 1
                del buffer[:1]  # resynchronize on the next capture pattern
                self._pending = None
                continue
            del buffer[:size]
            packets += self._packets(page, lacing)
        return packets, skipped

    def _packets(self, page: bytes, lacing: bytearray) -> list[bytes]:
        flags, _, serial = _HEADER.unpack_from(page)[2:5]
        if flags & BOS or self._serial is None:
            self._serial, self._pending = serial, None
        if serial != self._serial or not lacing:
            return []
        current = self._pending if flags & CONTINUED else bytearray()
        packets: list[bytes] = []
        position = 27 + len(lacing)
        for size in lacing:
            if current is not None:
                current += page[position : position + size]
            position += size
            if size < 255:
                if current is not None:
                    packets.append(bytes(current))
                current = bytearray()
        if current is not None and lacing[-1] == 255 and len(current) <= _MAX_PENDING_PACKET:
            self._pending = current  # a packet that goes on in the next page
        else:
            self._pending = None
        return packets
