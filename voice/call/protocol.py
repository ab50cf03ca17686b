"""The caller protocol (docs/client-protocol.md): connect parameters, close codes, messages.

Everything here is pure: parsing what a caller sends and building what it receives.
"""

import json
from dataclasses import dataclass
from enum import IntEnum
from urllib.parse import parse_qs

MAX_BINARY_BYTES = 64 * 1024
MAX_TEXT_BYTES = 8 * 1024
MAX_TYPED_CHARS = 2000
CALLER_FORMATS = ("pcm16", "webm-opus", "ogg-opus")
AGENT_FORMATS = ("pcm16", "ogg-opus")
MODES = ("voice", "text")
AGENT_RATE = 24_000


class CloseCode(IntEnum):
    BAD_PARAMETER = 4400
    BAD_KEY = 4401
    ORIGIN_NOT_ALLOWED = 4403
    NOT_FOUND = 4404
    TOO_MANY_CALLS = 4429


class CallRefused(Exception):
    """A connection that must be closed with `code`; `reason` says why, for logs."""

    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class CallParams:
    key: str | None
    agent: str | None
    format: str
    rate: int
    out: str
    mode: str


def params_parse(query_string: bytes) -> CallParams:
    """The connect parameters, or CallRefused(4400/4401) saying which one is wrong."""
    try:
        query = {k: v[-1] for k, v in parse_qs(query_string.decode(), strict_parsing=False).items()}
    except UnicodeDecodeError:
        raise CallRefused(CloseCode.BAD_PARAMETER, "query string is not UTF-8") from None
    choices = {"format": CALLER_FORMATS, "out": AGENT_FORMATS, "mode": MODES}
    for name, allowed in choices.items():
        if name in query and query[name] not in allowed:
            raise CallRefused(CloseCode.BAD_PARAMETER, f"{name} must be one of {allowed}")
    rate_text = query.get("rate", str(AGENT_RATE))
    if not rate_text.isdigit() or not 8000 <= int(rate_text) <= 48000:
        raise CallRefused(CloseCode.BAD_PARAMETER, "rate must be an integer in 8000..48000")
    key, agent = query.get("key") or None, query.get("agent") or None
    if not key and not agent:
        raise CallRefused(CloseCode.BAD_KEY, "key is required")
    return CallParams(
        key=key,
        agent=agent,
        format=query.get("format", "pcm16"),
        rate=int(rate_text),
        out=query.get("out", "pcm16"),
        mode=query.get("mode", "voice"),
    )


class BadMessage(ValueError):
    """A client text frame that is not a valid protocol message."""


@dataclass(frozen=True)
class TypedText:
    text: str


@dataclass(frozen=True)
class HangUp:
    pass


@dataclass(frozen=True)
class Ping:
    pass


ClientMessage = TypedText | HangUp | Ping


def client_message_parse(text: str) -> ClientMessage:
    """Parse a client text frame; BadMessage says what is wrong with it."""
    try:
        message = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadMessage(f"invalid JSON: {error.msg}") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise BadMessage("a message is a JSON object with a string 'type'")
    kind = message["type"]
    if kind == "text":
        typed = message.get("text")
        if not isinstance(typed, str) or not 1 <= len(typed.strip()) <= MAX_TYPED_CHARS:
            raise BadMessage(f"'text' needs a 'text' string of 1..{MAX_TYPED_CHARS} characters")
        return TypedText(typed.strip())
    if kind == "end":
        return HangUp()
    if kind == "ping":
        return Ping()
    raise BadMessage(f"unknown message type {kind!r}")


def session_message(*, call_id: str, mode: str, agent_name: str, params: CallParams) -> dict:
    audio_in = {"format": params.format, "rate": params.rate if params.format == "pcm16" else 48000}
    return {
        "type": "session",
        "call_id": call_id,
        "mode": mode,
        "agent": {"name": agent_name},
        "audio": {"in": audio_in, "out": {"format": params.out, "rate": AGENT_RATE}},
    }


def error_message(code: str, message: str) -> dict:
    return {"type": "error", "code": code, "message": message}
