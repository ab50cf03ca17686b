"""`/ws/call/`: the caller protocol on a WebSocket (docs/client-protocol.md).

The consumer only translates the wire protocol: it refuses a connection with the protocol's close
codes, and hands audio, text and hang-ups to the call's `CallSession`.
"""

import asyncio
import json

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from tenants_app.db import public_run, tenant_run
from tools_registry.slow import SlowTools
from voice.call.access import call_access_resolve
from voice.call.factory import call_session_create
from voice.call.protocol import (
    MAX_BINARY_BYTES,
    MAX_TEXT_BYTES,
    BadMessage,
    CallRefused,
    CloseCode,
    HangUp,
    Ping,
    TypedText,
    client_message_parse,
    error_message,
    params_parse,
    session_message,
)
from voice.call.session import CallSession, Outbox
from voice.services import call_start


class CallConsumer(AsyncWebsocketConsumer):
    session: CallSession | None = None
    slow_tools: SlowTools | None = None
    closed = False

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        except asyncio.CancelledError:
            if self.session is not None:  # the server is shutting down: close the call first
                await self.session.end("server_shutdown")
            raise

    async def dispatch(self, message: dict) -> None:
        """Audio frames skip Channels' per-message hop to the DB thread (closing old
        connections): 50 frames a second per call would queue behind every query, and the audio
        path makes no query."""
        if message["type"] == "websocket.receive" and message.get("bytes") is not None:
            await self.websocket_receive(message)
        else:
            await super().dispatch(message)

    async def connect(self) -> None:
        headers = dict(self.scope["headers"])
        try:
            params = params_parse(self.scope["query_string"])
            access = await public_run(
                call_access_resolve,
                params=params,
                origin=headers.get(b"origin", b"").decode("latin-1") or None,
                host=headers.get(b"host", b"").decode("latin-1"),
                session_key=self.scope.get("cookies", {}).get(settings.SESSION_COOKIE_NAME),
            )
            call = await tenant_run(
                access.tenant,
                call_start,
                tenant=access.tenant,
                persona_id=access.agent.persona_id,
                widget_key_id=access.widget_key_id,
                mode=params.mode,
            )
            if call is None:
                raise CallRefused(CloseCode.TOO_MANY_CALLS, "concurrent-call limit reached")
        except CallRefused as refusal:
            await self.accept()
            await self.close(code=int(refusal.code), reason=refusal.reason)
            return
        await self.accept()
        self.slow_tools = SlowTools(self.channel_name)
        self.session = call_session_create(
            call_id=str(call.pk),
            access=access,
            params=params,
            outbox=Outbox(self._send_json, self._send_bytes, self._close),
            slow_tools=self.slow_tools,
        )
        await self._send_json(
            session_message(
                call_id=str(call.pk), mode=params.mode, agent_name=access.agent.name, params=params
            )
        )
        await self.session.start()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.session is None:
            return
        if bytes_data is not None:
            if len(bytes_data) > MAX_BINARY_BYTES:
                await self._too_large("binary", MAX_BINARY_BYTES)
            else:
                await self.session.caller_audio(bytes_data)
            return
        if len(text_data.encode()) > MAX_TEXT_BYTES:
            await self._too_large("text", MAX_TEXT_BYTES)
            return
        try:
            message = client_message_parse(text_data)
        except BadMessage as error:
            await self._send_json(error_message("bad_message", str(error)))
            return
        match message:
            case TypedText(text=text):
                await self.session.caller_text(text)
            case Ping():
                await self._send_json({"type": "pong"})
            case HangUp():
                await self.session.end("caller_hangup", notify=True)

    async def tool_result(self, event: dict) -> None:
        """A slow tool's result, from a Celery worker over the channel layer."""
        if self.slow_tools is not None:
            self.slow_tools.deliver(event)

    async def disconnect(self, code: int) -> None:
        self.closed = True
        if self.session is not None:
            await self.session.end("caller_disconnected")

    async def _too_large(self, kind: str, limit: int) -> None:
        await self._send_json(
            error_message("message_too_large", f"{kind} frames are limited to {limit} bytes")
        )

    async def _send_json(self, message: dict) -> None:
        if not self.closed:
            await self.send(text_data=json.dumps(message))

    async def _send_bytes(self, data: bytes) -> None:
        if not self.closed:
            await self.send(bytes_data=data)

    async def _close(self) -> None:
        if not self.closed:
            self.closed = True
            await self.close()
