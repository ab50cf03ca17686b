"""The PersonaPlex framing (docs: PERSONAPLEX.md, "Framing").

Every message is one binary WebSocket frame: the first byte is the kind, the rest the payload.
"""

from enum import IntEnum

from voice.sidecar.errors import SidecarError

STEP_SAMPLES = 1920  # the model steps once per 80 ms of input at 24 kHz ("Audio")
TEXT_PROMPT_MAX_CHARS = 1000  # the official UI's cap of `text_prompt`; loading time grows with it


class MessageKind(IntEnum):
    """The first byte of every message."""

    HANDSHAKE = 0x00  # server -> client, no payload: the prompts are loaded, audio may flow
    AUDIO = 0x01  # both ways, Ogg/Opus bytes
    TEXT = 0x02  # server -> client, a UTF-8 word piece of the agent's own words
    CONTROL = 0x03  # client -> server, one byte; the server ignores it
    METADATA = 0x04  # defined, never sent
    ERROR = 0x05  # defined, never sent
    PING = 0x06  # unused


HANDSHAKE = bytes([MessageKind.HANDSHAKE])


class ProtocolError(SidecarError):
    """A message that breaks the framing: empty, or an unknown kind byte."""


def encode(kind: MessageKind, payload: bytes = b"") -> bytes:
    """One message: the kind byte followed by the payload."""
    return bytes([kind]) + payload


def decode(message: bytes) -> tuple[MessageKind, bytes]:
    """Split a message into its kind and payload; raise `ProtocolError` if it has neither."""
    if not message:
        raise ProtocolError("empty message")
    try:
        kind = MessageKind(message[0])
    except ValueError:
        raise ProtocolError(f"unknown message kind 0x{message[0]:02x}") from None
    return kind, message[1:]
