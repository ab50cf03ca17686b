"""A caller of a real web process: `/ws/call/` over a real socket (aiohttp), as a widget would.

Waits are generous: the processes under test share a busy 2-core machine with the test run.
"""

import contextlib
import json
from collections.abc import AsyncIterator

import aiohttp
from channels.db import database_sync_to_async

from tenants_app.db import tenant_schema
from tenants_app.models import Tenant
from voice.models import Persona
from voice.services import widget_key_create
from voice.tests.conftest import JOES_ORIGIN, Key

WAIT_SECONDS = 90.0


class SocketCaller:
    """One call: every JSON message received is kept in `messages`; audio frames are counted."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.messages: list[dict] = []
        self.audio_frames = 0

    async def receive(self, timeout: float = WAIT_SECONDS) -> dict:
        """The next JSON message; `{"type": "<closed>", "code": ...}` once it closes (daphne
        sends no close reason: the code alone tells the refusal)."""
        while True:
            message = await self.ws.receive(timeout=timeout)
            if message.type == aiohttp.WSMsgType.BINARY:
                self.audio_frames += 1
                continue
            if message.type == aiohttp.WSMsgType.TEXT:
                self.messages.append(json.loads(message.data))
                return self.messages[-1]
            return {"type": "<closed>", "code": self.ws.close_code}

    async def receive_until(self, kind: str, timeout: float = WAIT_SECONDS, **fields) -> dict:
        """Skip messages until one of type `kind` with the given field values."""
        while True:
            message = await self.receive(timeout)
            if message["type"] == kind and all(message.get(k) == v for k, v in fields.items()):
                return message
            if message["type"] == "<closed>":
                raise AssertionError(f"the call closed while waiting for {kind}: {message}")

    async def send(self, message: dict) -> None:
        await self.ws.send_str(json.dumps(message))

    async def say(self, text: str) -> str:
        """Type `text`; the agent's final answer."""
        await self.send({"type": "text", "text": text})
        await self.receive_until("transcript", role="caller", text=text)
        return (await self.receive_until("transcript", role="agent", final=True))["text"]

    async def tool_card(self, text: str, name: str) -> dict:
        """Type `text`; the `tool` card of `name` once it has finished (succeeded or failed)."""
        await self.send({"type": "text", "text": text})
        while True:
            card = await self.receive_until("tool", name=name)
            if card["status"] in ("succeeded", "failed"):
                return card

    async def hang_up(self) -> dict:
        await self.send({"type": "end"})
        return await self.receive_until("ended")


@contextlib.asynccontextmanager
async def call(
    port: int, query: str, *, origin: str = JOES_ORIGIN, host: str = "joes.localhost"
) -> AsyncIterator[SocketCaller]:
    """Connect to `/ws/call/?<query>` on 127.0.0.1:`port` from `origin`; closed on the way out."""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(
            f"ws://127.0.0.1:{port}/ws/call/?{query}",
            origin=origin,
            headers={"Host": f"{host}:{port}"},
            max_msg_size=0,
            timeout=aiohttp.ClientWSTimeout(ws_close=30),
        ) as ws,
    ):
        yield SocketCaller(ws)


@database_sync_to_async
def tenant_limits_set(slug: str, **limits: int) -> dict[str, int]:
    """Set limits of a tenant (`concurrent_call_limit=2`), committed; the old values."""
    tenant = Tenant.objects.get(slug=slug)
    old = {name: getattr(tenant, name) for name in limits}
    Tenant.objects.filter(pk=tenant.pk).update(**limits)
    return old


@database_sync_to_async
def tool_invocations(slug: str, call_id: str) -> list[tuple[str, str]]:
    """(tool name, status) of every tool run of the call, as stored in the tenant's schema."""
    from tools_registry.models import ToolInvocation

    with tenant_schema(Tenant.objects.get(slug=slug).schema_name):
        rows = ToolInvocation.objects.filter(call_id=call_id).order_by("id")
        return list(rows.values_list("tool_name", "status"))


@database_sync_to_async
def widget_key_commit(slug: str, origin: str = JOES_ORIGIN) -> Key:
    """A committed widget key of `slug`'s first persona, allowed from `origin`."""
    tenant = Tenant.objects.get(slug=slug)
    with tenant_schema(tenant.schema_name):
        persona = Persona.objects.order_by("id").first()
        widget_key = widget_key_create(tenant=tenant, persona=persona, allowed_origins=[origin])
    return Key(tenant, widget_key.key, origin)
