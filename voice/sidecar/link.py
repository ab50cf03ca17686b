"""The client side of one call's PersonaPlex session (docs: PERSONAPLEX.md).

    link = await SidecarLink.open("wss://gpu-1:8998", voice_id="NATF0.pt", text_prompt=persona)
    await link.send_audio(page)          # one Ogg page of the caller's stream per call
    async for event in link.events():    # AgentAudioPage | AgentTextPiece
        ...
    await link.close()

The link checks its arguments before connecting, sends nothing before the sidecar's handshake,
and never sends `seed` or sampling parameters. Keeping the Ogg stream continuous and at real-time
pace is the caller's job: the sidecar only steps when it receives audio.
"""

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import WSMsgType
from yarl import URL

from voice.sidecar.errors import SidecarClosed, SidecarHandshakeTimeout, SidecarUnavailable
from voice.sidecar.protocol import (
    HANDSHAKE,
    TEXT_PROMPT_MAX_CHARS,
    MessageKind,
    ProtocolError,
    decode,
    encode,
)
from voice.sidecar.voices import VOICE_IDS

logger = logging.getLogger(__name__)

_CLOSED_TYPES = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


@dataclass(frozen=True)
class AgentAudioPage:
    """One Ogg page of the agent's stream, in order; the first two are OpusHead and OpusTags.

    Pages come one per 80 ms step, silence included: a page arriving does not mean speech.
    """

    ogg: bytes


@dataclass(frozen=True)
class AgentTextPiece:
    """A piece of the agent's own words, e.g. " hello"; it arrives with or before its audio."""

    text: str


SidecarEvent = AgentAudioPage | AgentTextPiece


def chat_url(base_url: str, *, voice_id: str, text_prompt: str) -> URL:
    """The `/api/chat` URL for a session; raise `ValueError` for anything the sidecar would fail."""
    base = URL(base_url)
    if base.scheme not in ("ws", "wss"):
        raise ValueError(f"sidecar URL must be ws:// or wss://, got {base_url!r}")
    if voice_id not in VOICE_IDS:
        raise ValueError(f"unknown PersonaPlex voice {voice_id!r}; expected one of {VOICE_IDS}")
    if len(text_prompt) > TEXT_PROMPT_MAX_CHARS:
        raise ValueError(
            f"text prompt is {len(text_prompt)} characters; the budget is {TEXT_PROMPT_MAX_CHARS}"
        )
    path = base.path.rstrip("/") + "/api/chat"
    return base.with_path(path).with_query(voice_prompt=voice_id, text_prompt=text_prompt)


class SidecarLink:
    """One WebSocket session with a sidecar, opened by `SidecarLink.open`, after its handshake."""

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._session = session
        self._ws = ws
        self._closing = False

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        voice_id: str,
        text_prompt: str,
        handshake_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        ca_file: str | Path | None = None,
    ) -> "SidecarLink":
        """Connect to the sidecar at base `url` (`wss://gpu-1:8998`) and wait for its handshake.

        `ca_file` (wss only) is a CA bundle to trust, for a sidecar with its own certificate.
        Raises `ValueError` (bad arguments, before connecting), `SidecarUnavailable`, or
        `SidecarHandshakeTimeout` (still loading the prompts, or busy with another call).
        """
        target = chat_url(url, voice_id=voice_id, text_prompt=text_prompt)
        where = target.with_query(None)  # the prompt stays out of errors and logs
        ssl_setting = _ssl_setting(target, ca_file)
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=connect_timeout))
        link: SidecarLink | None = None
        try:
            try:
                # No heartbeat: the link sends nothing the protocol does not define.
                ws = await session.ws_connect(target, ssl=ssl_setting, heartbeat=None)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                raise SidecarUnavailable(f"cannot connect to {where}: {exc!r}") from exc
            link = cls(session, ws)
            await link._wait_for_handshake(handshake_timeout, where)
        except BaseException:
            await (link.close() if link else session.close())
            raise
        return link

    async def _wait_for_handshake(self, seconds: float, where: URL) -> None:
        try:
            async with asyncio.timeout(seconds):
                message = await self._ws.receive()
        except TimeoutError:
            raise SidecarHandshakeTimeout(
                f"no handshake from {where} within {seconds} s (loading, or busy with a call)"
            ) from None
        if message.type == WSMsgType.BINARY and message.data == HANDSHAKE:
            return
        if message.type in _CLOSED_TYPES:
            raise SidecarUnavailable(
                f"{where} closed before its handshake (close code {self._ws.close_code})"
            )
        raise ProtocolError(f"expected the handshake from {where}, got {message.type.name}")

    @property
    def closed(self) -> bool:
        """True once the WebSocket is closed, by either side."""
        return self._ws.closed

    async def send_audio(self, ogg: bytes) -> None:
        """Send bytes of the caller's Ogg/Opus stream (whole pages, in order) as one message."""
        if self._ws.closed:
            raise SidecarClosed("the sidecar link is closed", close_code=self._ws.close_code)
        try:
            await self._ws.send_bytes(encode(MessageKind.AUDIO, ogg))
        except (ConnectionError, aiohttp.ClientError) as exc:
            raise SidecarClosed(f"sending to the sidecar failed: {exc!r}") from exc

    async def events(self) -> AsyncIterator[SidecarEvent]:
        """The sidecar's audio pages and text pieces, in arrival order (one reader at a time).

        Ends quietly after `close()`. Raises `SidecarClosed` when the sidecar closes or drops
        the socket, and `ProtocolError` on a malformed message; the link is closed either way.
        """
        while True:
            message = await self._ws.receive()
            if message.type == WSMsgType.BINARY:
                try:
                    event = _event(message.data)
                except ProtocolError:
                    await self.close()
                    raise
                if event is not None:
                    yield event
                continue
            if self._closing:
                return
            await self.close()
            if message.type in _CLOSED_TYPES:
                raise SidecarClosed(
                    f"the sidecar closed the link (close code {self._ws.close_code})",
                    close_code=self._ws.close_code,
                )
            raise ProtocolError(f"unexpected {message.type.name} frame from the sidecar")

    async def close(self) -> None:
        """Close the WebSocket and its HTTP session; safe to call again or concurrently."""
        self._closing = True
        await self._ws.close()
        await self._session.close()


def _ssl_setting(target: URL, ca_file: str | Path | None) -> ssl.SSLContext | bool:
    if ca_file is None:
        return True  # verify against the system's CAs; verification is never turned off
    if target.scheme != "wss":
        raise ValueError("ca_file is only meaningful for a wss:// sidecar URL")
    return ssl.create_default_context(cafile=str(ca_file))


def _event(data: bytes) -> SidecarEvent | None:
    kind, payload = decode(data)
    if kind == MessageKind.AUDIO:
        return AgentAudioPage(payload)
    if kind == MessageKind.TEXT:
        try:
            return AgentTextPiece(payload.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"text piece is not UTF-8: {payload!r}") from exc
    # Defined by the protocol but never sent by the upstream server: tolerate, don't act.
    logger.warning("ignoring a %s message from the sidecar", kind.name)
    return None
