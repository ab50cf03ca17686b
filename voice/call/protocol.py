"""The caller protocol (docs/client-protocol.md): connect parameters, close codes, messages.

Everything here is pure: parsing what a caller sends, and building every message it receives.
"""

import json
import re
import unicodedata
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any
from urllib.parse import parse_qs

from nexus_project.errors import ApplicationError
from voice.audio.base import PCM_RATE
from voice.audio.formats import CALLER_FORMATS, OUT_FORMATS
from voice.audio.formats.ogg_opus import OPUS_RATE
from voice.audio.formats.pcm16 import MAX_RATE, MIN_RATE
from voice.models import CallMode, EndReason

MAX_BINARY_BYTES = 64 * 1024
MAX_TEXT_BYTES = 8 * 1024
MAX_TYPED_CHARS = 2000
# The caller's audio frame lengths (the Opus frame sizes from 10 ms): the bridge encodes to the
# sidecar in frames of the same length, one packet per caller frame.
FRAME_MS_CHOICES = (10, 20, 40, 60)
DEFAULT_FRAME_MS = 20

Message = dict[str, Any]  # a JSON message to the caller
_ASCII_DIGITS = re.compile(r"[0-9]{1,9}")


class CloseCode(IntEnum):
    BAD_PARAMETER = 4400
    BAD_KEY = 4401
    ORIGIN_NOT_ALLOWED = 4403
    NOT_FOUND = 4404
    TOO_MANY_CALLS = 4429


class ModeReason(StrEnum):
    """Why a call moved from one path to the other (the `mode` message's `reason`)."""

    SIDECAR_UNAVAILABLE = "sidecar_unavailable"
    SIDECAR_BUSY = "sidecar_busy"
    SIDECAR_LOADING = "sidecar_loading"
    ENGINE_UNAVAILABLE = "engine_unavailable"  # a voice engine other than a sidecar is down
    RECOVERED = "recovered"


class CallRefused(ApplicationError):
    """A connection that must be closed with `close_code`; the message says why, for logs."""

    def __init__(self, close_code: CloseCode, message: str) -> None:
        super().__init__(message, code=close_code.name.lower())
        self.close_code = close_code


class BadMessage(ApplicationError):
    """A client text frame that is not a valid protocol message."""

    default_code = "bad_message"


class MessageTooLarge(ApplicationError):
    default_code = "message_too_large"

    def __init__(self, kind: str, limit: int) -> None:
        super().__init__(f"{kind} frames are limited to {limit} bytes")


@dataclass(frozen=True)
class CallParams:
    key: str | None
    agent: str | None
    format: str
    rate: int
    out: str
    mode: CallMode
    frame_ms: int = DEFAULT_FRAME_MS


def params_parse(query_string: bytes) -> CallParams:
    """The connect parameters, or CallRefused(4400/4401) saying which one is wrong."""
    try:
        query = {k: v[-1] for k, v in parse_qs(query_string.decode(), strict_parsing=False).items()}
    except UnicodeDecodeError:
        raise CallRefused(CloseCode.BAD_PARAMETER, "query string is not UTF-8") from None
    choices = {"format": CALLER_FORMATS, "out": OUT_FORMATS, "mode": tuple(CallMode.values)}
    for name, allowed in choices.items():
        if name in query and query[name] not in allowed:
            raise CallRefused(CloseCode.BAD_PARAMETER, f"{name} must be one of {allowed}")
    rate_text = query.get("rate", str(PCM_RATE))
    if not _ASCII_DIGITS.fullmatch(rate_text) or not MIN_RATE <= int(rate_text) <= MAX_RATE:
        raise CallRefused(
            CloseCode.BAD_PARAMETER, f"rate must be an integer in {MIN_RATE}..{MAX_RATE}"
        )
    frame_text = query.get("frame_ms", str(DEFAULT_FRAME_MS))
    if frame_text not in {str(ms) for ms in FRAME_MS_CHOICES}:
        raise CallRefused(CloseCode.BAD_PARAMETER, f"frame_ms must be one of {FRAME_MS_CHOICES}")
    key, agent = query.get("key") or None, query.get("agent") or None
    if not key and not agent:
        raise CallRefused(CloseCode.BAD_KEY, "key is required")
    return CallParams(
        key=key,
        agent=agent,
        format=query.get("format", "pcm16"),
        rate=int(rate_text),
        out=query.get("out", "pcm16"),
        mode=CallMode(query.get("mode", CallMode.VOICE)),
        frame_ms=int(frame_text),
    )


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


def without_control_characters(text: str) -> str:
    """`text` without control characters (NUL, bells, escapes...), line breaks and tabs kept."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")


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
        if isinstance(typed, str):
            typed = without_control_characters(typed).strip()
        if not isinstance(typed, str) or not 1 <= len(typed) <= MAX_TYPED_CHARS:
            raise BadMessage(f"'text' needs a 'text' string of 1..{MAX_TYPED_CHARS} characters")
        return TypedText(typed)
    if kind == "end":
        return HangUp()
    if kind == "ping":
        return Ping()
    raise BadMessage(f"unknown message type {kind!r}")


# What the server sends: every message to the caller is built here.


def session_message(
    *, call_id: str, agent_name: str, params: CallParams, recording: bool
) -> Message:
    """The first message; `recording`: the call's audio is recorded (the caller is to be told
    before anything is said)."""
    audio_in = {
        "format": params.format,
        "rate": params.rate if params.format == "pcm16" else OPUS_RATE,
        "frame_ms": params.frame_ms,
    }
    return {
        "type": "session",
        "call_id": call_id,
        "mode": params.mode,
        "agent": {"name": agent_name},
        "audio": {"in": audio_in, "out": {"format": params.out, "rate": PCM_RATE}},
        "recording": recording,
    }


def ready_message() -> Message:
    return {"type": "ready"}


def mode_message(mode: CallMode, reason: ModeReason, engine: str | None = None) -> Message:
    """The call moved to `mode`; in voice, `engine` names the voice engine now serving."""
    message: Message = {"type": "mode", "mode": mode, "reason": reason}
    if engine is not None:
        message["engine"] = engine
    return message


def transcript_message(
    entry_id: str, role: str, text: str, *, final: bool, interrupted: bool = False
) -> Message:
    message: Message = {"type": "transcript", "id": entry_id, "role": role, "text": text}
    message["final"] = final
    if interrupted:
        message["interrupted"] = True
    return message


def interrupt_message() -> Message:
    return {"type": "interrupt"}


def tool_message(*, message_id: str, name: str, title: str, status: str, summary: str) -> Message:
    """A tool card: `title` is what the caller reads it is ("Booking"), `summary` what came of
    it in the caller's words; `name` is the tool's own, for clients that need it."""
    return {
        "type": "tool",
        "id": message_id,
        "name": name,
        "title": title,
        "status": status,
        "summary": summary,
    }


def error_message(error: ApplicationError) -> Message:
    return {"type": "error", "code": error.code, "message": error.message}


def ended_message(reason: EndReason) -> Message:
    return {"type": "ended", "reason": reason}


def pong_message() -> Message:
    return {"type": "pong"}
