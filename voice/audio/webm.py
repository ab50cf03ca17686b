"""A live WebM stream's Opus packets, read as the bytes arrive (EBML, RFC 8794; Matroska blocks).

A browser's MediaRecorder writes WebM once, front to back: an EBML header, then a Segment and
its Clusters, often of unknown size, holding one block per Opus packet. Read here rather than by
FFmpeg's demuxer: that demuxer pulls its input, so a live stream would need a thread per call
blocked in ``read()``, and each chunk a round trip to it. This reader is pushed instead: every
fed chunk gives the packets it completed, on the caller's thread.

Master elements on the way to the blocks (Segment, Tracks, TrackEntry, Cluster, BlockGroup) are
entered whatever their size; every other element is skipped without being kept. The Opus track
is the first TrackEntry whose CodecID is ``A_OPUS``; its CodecPrivate is its OpusHead. Another
EBML header later in the stream starts a new recording (MediaRecorder restarted), in whatever
chunks it comes: a browser may send the header's first byte alone.
"""

from dataclasses import dataclass

EBML_MAGIC = b"\x1a\x45\xdf\xa3"  # the EBML header's ID: every WebM stream starts with it
_EBML_HEADER = int.from_bytes(EBML_MAGIC, "big")
_DOC_TYPE = 0x4282
_DOC_TYPES = {b"webm", b"matroska"}
_TRACK_ENTRY = 0xAE
_CLUSTER = 0x1F43B675
_CLUSTER_ID = _CLUSTER.to_bytes(4, "big")
_ENTERED = {0x18538067, 0x1654AE6B, _TRACK_ENTRY, _CLUSTER, 0xA0}  # Segment, Tracks, BlockGroup
_TRACK_NUMBER = 0xD7
_CODEC_ID = 0x86
_CODEC_PRIVATE = 0x63A2
_BLOCKS = {0xA3, 0xA1}  # SimpleBlock, Block
_READ = {_EBML_HEADER, _TRACK_NUMBER, _CODEC_ID, _CODEC_PRIVATE, *_BLOCKS}
_MAX_ELEMENT = 1 << 20  # any element but those entered: larger than this is not an audio stream
_OPUS = b"A_OPUS"


class WebmError(ValueError):
    """Bytes that are not a WebM stream: the stream cannot be read on from here."""


@dataclass
class _TrackEntry:
    number: int | None = None
    codec: bytes = b""
    private: bytes | None = None


class WebmOpusReader:
    """WebM bytes in any chunking -> the Opus track's OpusHead, then its packets, in order.

    Bytes that cannot be WebM before the Opus track is known raise WebmError: the reader is then
    spent. Damage after it is skipped up to the next Cluster and counted, so one bad chunk
    never ends the stream.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._skip = 0  # bytes of a skipped element still to come
        self._lost = False  # skipping damage up to the next Cluster
        self._entry: _TrackEntry | None = None  # the TrackEntry being read
        self._track: int | None = None  # the Opus track's number, once its entry is complete
        self._started = False  # the stream's first bytes were the EBML header's ID

    def feed(self, data: bytes) -> tuple[list[bytes], int]:
        """Return the packets completed by ``data`` (the OpusHead first, once) and the number
        of damaged bytes skipped."""
        if self._skip:
            skipped = min(self._skip, len(data))
            self._skip -= skipped
            data = data[skipped:]
        self._buffer += data
        packets: list[bytes] = []
        damaged = 0
        while True:
            if self._lost:
                damaged += self._find_cluster()
                if self._lost:
                    return packets, damaged
            try:
                self._read(packets)
                return packets, damaged
            except WebmError:
                if self._track is None:
                    raise
                del self._buffer[:1]
                self._lost, self._skip, damaged = True, 0, damaged + 1

    def _find_cluster(self) -> int:
        """Drop the bytes before the next Cluster ID (all but a tail that may begin one)."""
        buffer = self._buffer
        start = buffer.find(_CLUSTER_ID)
        self._lost = start < 0
        if self._lost:
            start = max(0, len(buffer) - len(_CLUSTER_ID) + 1)
        del buffer[:start]
        return start

    def _read(self, packets: list[bytes]) -> None:
        """Read the elements complete in the buffer, adding their packets to ``packets``."""
        buffer = self._buffer
        if not self._started:
            if not EBML_MAGIC.startswith(buffer[: len(EBML_MAGIC)]):
                raise WebmError("the stream does not start with a WebM (EBML) header")
            self._started = len(buffer) >= len(EBML_MAGIC)
            if not self._started:
                return
        position = 0
        try:
            while (header := _element_header(buffer, position)) is not None:
                element, size, header_length = header
                body = position + header_length
                if element in _ENTERED:
                    position = body
                    if element == _TRACK_ENTRY:
                        packets += self._entry_done()
                        self._entry = _TrackEntry()
                    continue
                if size is None or size > _MAX_ELEMENT:
                    raise WebmError(f"element {element:#x} of {size or 'unknown'} size")
                if element not in _READ:
                    position = body + size
                    if position > len(buffer):
                        self._skip = position - len(buffer)
                        position = len(buffer)
                    continue
                if body + size > len(buffer):
                    return
                packets += self._element(element, bytes(buffer[body : body + size]))
                position = body + size
        finally:
            del buffer[:position]

    def _element(self, element: int, payload: bytes) -> list[bytes]:
        if element == _EBML_HEADER:  # the stream's start, or a new recording's
            if _doc_type(payload) not in _DOC_TYPES:
                raise WebmError(f"an EBML document of type {_doc_type(payload)!r}, not WebM")
            self._track = self._entry = None
            return []
        if element in _BLOCKS:
            return [*self._entry_done(), *self._block(payload)]
        entry = self._entry
        if entry is None:
            raise WebmError(f"track field {element:#x} outside a TrackEntry")
        if element == _TRACK_NUMBER:
            entry.number = int.from_bytes(payload, "big")
        elif element == _CODEC_ID:
            entry.codec = payload.rstrip(b"\0")
        else:
            entry.private = payload
        return []

    def _entry_done(self) -> list[bytes]:
        """The OpusHead, when the entry just read is the first Opus track."""
        entry, self._entry = self._entry, None
        if self._track is not None or entry is None or entry.codec != _OPUS:
            return []
        if entry.number is None or entry.private is None:
            raise WebmError("the Opus track has no TrackNumber or no OpusHead")
        self._track = entry.number
        return [entry.private]

    def _block(self, payload: bytes) -> list[bytes]:
        track = _vint(payload, 0)
        if track is None or len(payload) < track[1] + 3:
            raise WebmError("a block shorter than its header")
        number, length = _unmarked(*track), track[1]
        if self._track is None:
            raise WebmError("a block before the Opus track")
        if number != self._track:
            return []
        flags = payload[length + 2]
        return _frames(payload[length + 3 :], lacing=flags >> 1 & 0b11)


def _vint(data: bytes | bytearray, position: int) -> tuple[int, int] | None:
    """The variable-length integer at ``position`` with its length marker, and its length;
    None if ``data`` ends before it does."""
    if position >= len(data):
        return None
    length = 9 - data[position].bit_length()
    if length > 8:
        raise WebmError("a zero byte where an EBML number starts")
    if position + length > len(data):
        return None
    return int.from_bytes(data[position : position + length], "big"), length


def _unmarked(raw: int, length: int) -> int:
    """A variable-length integer's value: ``raw`` without its length marker."""
    return raw & ((1 << 7 * length) - 1)


def _element_header(data: bytes | bytearray, position: int) -> tuple[int, int | None, int] | None:
    """(ID, size or None when unknown, header length) of the element at ``position``."""
    element = _vint(data, position)
    if element is None:
        return None
    element_id, id_length = element
    if id_length > 4:
        raise WebmError("an element ID longer than 4 bytes")
    size = _vint(data, position + id_length)
    if size is None:
        return None
    value, size_length = _unmarked(*size), size[1]
    unknown = value == (1 << 7 * size_length) - 1  # all ones
    return element_id, None if unknown else value, id_length + size_length


def _doc_type(header: bytes) -> bytes | None:
    """The DocType in an EBML header's body."""
    position = 0
    while (child := _element_header(header, position)) is not None:
        element, size, header_length = child
        start = position + header_length
        if size is None or start + size > len(header):
            break
        if element == _DOC_TYPE:
            return header[start : start + size].rstrip(b"\0")
        position = start + size
    return None


def _frames(data: bytes, lacing: int) -> list[bytes]:
    """A block's frames: one, or several laced (Xiph 1, EBML 3, fixed-size 2)."""
    if lacing == 0:
        return [data]
    if not data:
        raise WebmError("a laced block with no frame count")
    count, position = data[0] + 1, 1
    sizes: list[int] = []
    if lacing == 1:
        for _ in range(count - 1):
            size = 0
            while position < len(data) and data[position] == 255:
                size, position = size + 255, position + 1
            if position >= len(data):
                raise WebmError("a Xiph-laced block cut short")
            sizes.append(size + data[position])
            position += 1
    elif lacing == 3:
        for index in range(count - 1):
            number = _vint(data, position)
            if number is None:
                raise WebmError("an EBML-laced block cut short")
            value, length = _unmarked(*number), number[1]
            if index:  # later sizes are signed differences from the one before
                value = sizes[-1] + value - ((1 << 7 * length - 1) - 1)
            sizes.append(value)
            position += length
    else:
        if (len(data) - 1) % count:
            raise WebmError("a fixed-size-laced block that does not divide evenly")
        sizes = [(len(data) - 1) // count] * (count - 1)
    frames = []
    for size in sizes:
        if size < 0 or position + size > len(data):
            raise WebmError("a laced frame beyond its block")
        frames.append(data[position : position + size])
        position += size
    return [*frames, data[position:]]
