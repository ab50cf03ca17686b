"""Fixtures for call tests: committed widget keys and a caller that speaks the protocol.

The consumer reaches the database from Channels' DB thread, outside the test's transaction, so
call tests write their rows from that thread too (committed) and assert on their own call ids.
"""

import datetime as dt
import json
from contextlib import asynccontextmanager
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from nexus_project.asgi import application
from tenants_app.db import tenant_schema
from tenants_app.models import Tenant
from tools_registry.models import Booking
from voice.models import Call, Persona
from voice.services import widget_key_create
from voice.tests.certificates import write_certificate
from voice.tests.fake_gemini import fake_gemini

NEW_YORK = ZoneInfo("America/New_York")  # Joe's Barbershop's time zone
JOES_ORIGIN = "http://joes.localhost:8000"
PIZZA_ORIGIN = "http://pizza.localhost:8000"


@pytest.fixture
async def fake():
    """A local fake Gemini server (its `base_url` goes to the real SDK)."""
    async with fake_gemini() as server:
        yield server


@dataclass(frozen=True)
class Key:
    tenant: Tenant
    key: str
    origin: str


@database_sync_to_async
def _key(slug: str, origin: str) -> Key:
    tenant = Tenant.objects.get(slug=slug)
    with tenant_schema(tenant.schema_name):
        persona = Persona.objects.order_by("id").first()
        widget_key = widget_key_create(tenant=tenant, persona=persona, allowed_origins=[origin])
    return Key(tenant, widget_key.key, origin)


@pytest.fixture
async def joes_key(db) -> Key:
    return await _key("joes", JOES_ORIGIN)


@pytest.fixture
async def pizza_key(db) -> Key:
    return await _key("pizza", PIZZA_ORIGIN)


class Caller:
    """A test client of `/ws/call/`, reading JSON and audio frames apart; every JSON message
    received is kept in `messages`, every audio frame in `audio`."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.ws = communicator
        self.audio: list[bytes] = []
        self.messages: list[dict] = []

    async def receive(self, timeout: float = 5) -> dict:
        """The next JSON message (audio frames met on the way are kept in `self.audio`)."""
        while True:
            frame = await self.ws.receive_output(timeout)
            if frame["type"] == "websocket.close":
                return {"type": "<closed>", "code": frame.get("code")}
            if frame.get("bytes") is not None:
                self.audio.append(frame["bytes"])
                continue
            self.messages.append(json.loads(frame["text"]))
            return self.messages[-1]

    async def receive_until(self, kind: str, timeout: float = 10, **fields) -> dict:
        """Skip messages until one of type `kind` with the given field values."""
        while True:
            message = await self.receive(timeout)
            if message["type"] == "<closed>" and kind != "<closed>":
                raise AssertionError(f"socket closed while waiting for {kind}")
            if message["type"] == kind and all(message.get(k) == v for k, v in fields.items()):
                return message

    async def send(self, message: dict) -> None:
        await self.ws.send_to(text_data=json.dumps(message))

    async def send_audio(self, data: bytes) -> None:
        await self.ws.send_to(bytes_data=data)


@asynccontextmanager
async def call(
    query: str,
    *,
    origin: str | None,
    host: str = "localhost:8000",
    cookie: str = "",
    client: str = "127.0.0.1",
    forwarded_for: str = "",
):
    """Connect a `Caller` to `/ws/call/?<query>` from `client`; disconnect on the way out."""
    headers = [(b"host", host.encode())]
    if origin:
        headers.append((b"origin", origin.encode()))
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    if forwarded_for:
        headers.append((b"x-forwarded-for", forwarded_for.encode()))
    communicator = WebsocketCommunicator(application, f"/ws/call/?{query}", headers=headers)
    communicator.scope["client"] = (client, 50000)
    connected, code = await communicator.connect(timeout=10)
    caller = Caller(communicator)
    caller.connected, caller.close_code = connected, code
    try:
        yield caller
    finally:
        if not communicator.future.done():
            await communicator.disconnect(timeout=10)


@database_sync_to_async
def stored_call(tenant: Tenant, call_id: str) -> tuple[Call | None, list[tuple[str, str]]]:
    """The call row and its transcript (role, text) as stored in `tenant`'s schema."""
    with tenant_schema(tenant.schema_name):
        row = Call.objects.select_related("persona").filter(pk=call_id).first()
        entries = list(row.transcript.values_list("role", "text")) if row else []
        return row, entries


def at_3pm(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(15, 0), NEW_YORK)


@database_sync_to_async
def _unbook(starts: dt.datetime) -> None:
    with tenant_schema("joes"):
        Booking.objects.filter(starts_at=starts).delete()


@pytest.fixture
async def open_day(db) -> tuple[str, dt.date]:
    """How a caller names a day Joe's is open, and the day: "tomorrow" in New York, or "on
    Tuesday" when tomorrow is Sunday or Monday (closed). Its 3 pm is freed first: call tests
    commit, so another may have booked it."""
    today = dt.datetime.now(NEW_YORK).date()
    tomorrow = today + dt.timedelta(days=1)
    if tomorrow.weekday() not in (6, 0):
        said, day = "tomorrow", tomorrow
    else:
        said, day = "on Tuesday", today + dt.timedelta(days=(1 - today.weekday()) % 7)
    await _unbook(at_3pm(day))
    return said, day


@database_sync_to_async
def _voice_set(tenant: Tenant, engine: str, voice_id: str) -> tuple[str, str]:
    """Give `tenant`'s first persona `engine` and `voice_id`, as its admin would; the old pair."""
    with tenant_schema(tenant.schema_name):
        persona = Persona.objects.order_by("id").first()
        old = persona.voice_provider, persona.voice_id
        persona.voice_provider, persona.voice_id = engine, voice_id
        persona.full_clean()
        persona.save()
    return old


@asynccontextmanager
async def persona_voice(key: Key, engine: str, voice_id: str):
    """The key's persona speaks through `engine` with `voice_id` (committed, then put back)."""
    old = await _voice_set(key.tenant, engine, voice_id)
    try:
        yield
    finally:
        await _voice_set(key.tenant, *old)


@pytest.fixture
def tls_dir(tmp_path, monkeypatch):
    """A certificate for local TLS servers (the Gemini Live fake), trusted by SDK clients built
    from now on."""
    monkeypatch.setenv("SSL_CERT_FILE", str(write_certificate(tmp_path)))
    return tmp_path
