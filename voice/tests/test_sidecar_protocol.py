"""The PersonaPlex framing: kind byte + payload."""

import pytest

from voice.sidecar.errors import SidecarError
from voice.sidecar.protocol import HANDSHAKE, MessageKind, ProtocolError, decode, encode


def test_kind_bytes_match_the_wire_protocol():
    assert [(kind.name, kind.value) for kind in MessageKind] == [
        ("HANDSHAKE", 0),
        ("AUDIO", 1),
        ("TEXT", 2),
        ("CONTROL", 3),
        ("METADATA", 4),
        ("ERROR", 5),
        ("PING", 6),
    ]
    assert HANDSHAKE == b"\x00"


def test_encode_then_decode_round_trips():
    message = encode(MessageKind.TEXT, " Zoë".encode())

    assert message == b"\x02 Zo\xc3\xab"
    assert decode(message) == (MessageKind.TEXT, b" Zo\xc3\xab")
    assert decode(HANDSHAKE) == (MessageKind.HANDSHAKE, b"")


@pytest.mark.parametrize(("message", "error"), [(b"", "empty"), (b"\x07abc", "0x07")])
def test_decode_rejects_what_is_not_a_message(message, error):
    with pytest.raises(ProtocolError, match=error) as raised:
        decode(message)

    assert isinstance(raised.value, SidecarError)
