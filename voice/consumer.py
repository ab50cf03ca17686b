"""`/ws/call/`: the caller protocol on a WebSocket (docs/client-protocol.md).

The consumer only translates the wire protocol. Who may call which agent was settled by
`CallAccessMiddleware` at the handshake; the consumer refuses a connection with the protocol's
close codes, opens the call, and hands audio, text and hang-ups to its `CallSession`. Caller
audio goes straight from the socket to the call's audio stage (`voice.call.inbox`), so that a
control message never waits behind it.
"""

import asyncio
import json
import logging
import time
from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer

from nexus_project.draining import draining
from nexus_project.logs import log_context_bind
from nexus_project.metrics import HANDSHAKES_REFUSED
from tenants_app.db import schema_run
from tools_registry.slow import SlowTools
from voice.call.capacity import call_starting, process_full
from voice.call.client_limits import client_call_hold, client_call_release
from voice.call.factory import call_session_create
from voice.call.inbox import audio_taken_at_once
from voice.call.protocol import (
    MAX_BINARY_BYTES,
    MAX_TEXT_BYTES,
    BadMessage,
    CallRefused,
    CloseCode,
    HangUp,
    Message,
    MessageTooLarge,
    Ping,
    TypedText,
    client_message_parse,
    error_message,
    pong_message,
    session_message,
)
from voice.call.session import CallSession, Outbox
from voice.middleware import SERVER_BUSY, CallAdmission, call_admission
from voice.models import EndReason
from voice.recording.recorder import recording_wanted
from voice.services import call_start

logger = logging.getLogger(__name__)

CLIENT_CALL_SLACK_SECONDS = 60  # a client's count of calls outlives its longest call by this


async def _reactor_writes() -> None:
    """Return once the reactor has written what was sent: it writes when the loop finds the
    socket writable, in a callback queued behind this task's first wake-up, so it takes two."""
    await asyncio.sleep(0)
    await asyncio.sleep(0)


class CallConsumer(AsyncWebsocketConsumer):
    session: CallSession | None = None
    slow_tools: SlowTools | None = None
    closed = False

    async def __call__(self, scope, receive, send):
        """Serve the connection; whatever stops it, the call is ended."""
        try:
            await super().__call__(scope, audio_taken_at_once(receive, self._take_audio), send)
        except asyncio.CancelledError:
            if self.session is not None:  # the server is shutting down: close the call first
                await self.session.end(EndReason.SERVER_SHUTDOWN)
            raise
        except Exception:
            if self.session is not None:  # no call outlives its connection
                await self.session.end(EndReason.ERROR, notify=True)
            raise

    async def dispatch(self, message: dict) -> None:
        """Messages skip Channels' per-message hop to the DB thread (closing old connections): a
        caller's connect, audio or hang-up would wait there behind the queries of every call,
        and the call's own queries close old connections themselves (`database_sync_to_async`)."""
        await getattr(self, get_handler_name(message))(message)

    async def connect(self) -> None:
        if draining():  # this server is stopping: the caller is to call again, elsewhere
            await self._refuse(CallRefused(CloseCode.TOO_MANY_CALLS, "server stopping: call again"))
            return
        if process_full():  # at its cap of calls: the caller is to call again, elsewhere
            await self._refuse(CallRefused(CloseCode.TOO_MANY_CALLS, SERVER_BUSY))
            return
        with call_starting():  # counted from the check on, with no await between them
            session = await self._open()
        if session is not None:  # live (counted in `live_calls`) before anything awaits
            await session.start()

    async def _open(self) -> CallSession | None:
        """Open the call's row, send `session` and build the call; None if it was refused."""
        try:
            admission = call_admission(self.scope)
            call_id = await self._call_start(admission)
        except CallRefused as refusal:
            await self._refuse(refusal)
            return None
        await self.accept()
        access, params = admission.access, admission.params
        recording = recording_wanted(tenant=access.tenant, mode=params.mode)
        await self._send_json(
            session_message(
                call_id=call_id, agent_name=access.agent.name, params=params, recording=recording
            )
        )
        # The call is built once `session` is on its way: the caller's next message is read only
        # after `connect` returns, so nothing reaches the call before it exists.
        await _reactor_writes()
        # From here on, every log line of the call, and of every task it starts, names it.
        log_context_bind(
            tenant=access.tenant.schema_name, call_id=call_id, persona=access.agent.slug
        )
        logger.info("call started: %s mode", params.mode)
        self.slow_tools = SlowTools(self.channel_name)
        self.session = call_session_create(
            call_id=call_id,
            access=access,
            params=params,
            client_address=admission.client_address,
            outbox=Outbox(self._send_json, self._send_bytes, self._close),
            slow_tools=self.slow_tools,
        )
        return self.session

    async def _refuse(self, refusal: CallRefused) -> None:
        HANDSHAKES_REFUSED.labels(int(refusal.close_code)).inc()
        await self.accept()
        await self.close(code=int(refusal.close_code), reason=refusal.message)

    async def _call_start(self, admission: CallAdmission) -> str:
        """Open the call's row, counted against its client's calls (the session counts it out
        when it ends); CallRefused over the client's or the tenant's limit of calls."""
        access = admission.access
        tenant = access.tenant
        client = {"schema_name": tenant.schema_name, "address": admission.client_address}
        held = await client_call_hold(
            **client,
            limit=tenant.calls_per_client_limit,
            ttl_seconds=tenant.call_max_duration_seconds + CLIENT_CALL_SLACK_SECONDS,
        )
        if not held:
            raise CallRefused(CloseCode.TOO_MANY_CALLS, "too many calls from this client")
        call_id = await schema_run(
            access.tenant.schema_name,
            call_start,
            tenant_id=access.tenant.pk,
            persona_id=access.agent.persona_id,
            widget_key_id=access.widget_key_id,
            mode=admission.params.mode,
        )
        if call_id is None:
            await client_call_release(**client)
            raise CallRefused(CloseCode.TOO_MANY_CALLS, "concurrent-call limit reached")
        return call_id

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.session is None:
            return
        if bytes_data is not None:
            if len(bytes_data) > MAX_BINARY_BYTES:
                await self._send_json(error_message(MessageTooLarge("binary", MAX_BINARY_BYTES)))
            elif not self.session.caller_audio(bytes_data, time.perf_counter()):
                error = BadMessage("this call is in text mode: send text messages")
                await self._send_json(error_message(error))
            return
        text = text_data or ""
        if len(text.encode()) > MAX_TEXT_BYTES:
            await self._send_json(error_message(MessageTooLarge("text", MAX_TEXT_BYTES)))
            return
        try:
            message = client_message_parse(text)
        except BadMessage as error:
            await self._send_json(error_message(error))
            return
        match message:
            case TypedText(text=typed):
                await self.session.caller_text(typed)
            case Ping():
                await self._send_json(pong_message())
            case HangUp():
                await self.session.hang_up()

    def _take_audio(self, data: bytes, received_at: float) -> bool:
        """A frame of caller audio, straight from the socket to the call; False: not taken (no
        call yet, too large, a text call), left to `receive`, which says why."""
        if self.session is None or len(data) > MAX_BINARY_BYTES:
            return False
        return self.session.caller_audio(data, received_at)

    async def tool_result(self, event: dict[str, Any]) -> None:
        """A slow tool's result, from a Celery worker over the channel layer."""
        if self.slow_tools is not None:
            self.slow_tools.deliver(event)

    async def disconnect(self, code: int) -> None:
        self.closed = True
        if self.session is not None:
            await self.session.end(EndReason.CALLER_DISCONNECTED)

    async def _send_json(self, message: Message) -> None:
        await self._send(text_data=json.dumps(message))

    async def _send_bytes(self, data: bytes) -> None:
        await self._send(bytes_data=data)

    async def _send(self, **frame: Any) -> None:
        """Send a frame while the socket is open; a socket that fails is closed for the call."""
        if self.closed:
            return
        try:
            await self.send(**frame)
        except Exception:
            logger.warning("call socket failed: the rest of the call is not sent", exc_info=True)
            self.closed = True

    async def _close(self) -> None:
        if not self.closed:
            self.closed = True
            await self.close()
