"""The live monitor: a tenant's staff socket gets its calls as they happen, and only its own.

Real calls over `/ws/call/` (the offline agent, or the Gemini fake, in text mode) and staff
sockets on `/ws/staff/`, each logged in with a session stored in its tenant's schema. Rows are
written from Channels' DB thread (committed), as the consumers read them from there.
"""

import asyncio
import json
import logging
import uuid
from contextlib import asynccontextmanager

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from nexus_project.asgi import application
from tenants_app.db import tenant_schema
from tenants_app.tests.factories import user_create
from voice.call.ending import live_calls
from voice.tests.conftest import JOES_ORIGIN, PIZZA_ORIGIN, call, stored_call
from voice.tests.fake_gemini import API_KEY, fake_gemini, function_call_reply, text_reply

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(90)]

JOES_HOST = "joes.localhost:8000"
PIZZA_HOST = "pizza.localhost:8000"
REFUSED = 4403


def _login(user) -> str:
    """A session for `user` in the current schema, as the admin's login makes it; its key."""
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


@database_sync_to_async
def staff_session(schema: str, *, support: bool = True, staff: bool = True) -> str:
    """The session key of a new user of `schema` (committed): staff in the Support role (who may
    view calls) unless told otherwise; `staff=False`: not staff, yet allowed to view calls."""
    name = f"monitor-{uuid.uuid4().hex[:8]}"
    with tenant_schema(schema):
        if staff:
            user = user_create(name, support=support)
        else:
            user = get_user_model().objects.create_user(name, password="x-" + name)
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label="voice", codename="view_call")
            )
        return _login(user)


class Staff:
    """A test client of `/ws/staff/`; every message received is kept in `messages`."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.ws = communicator
        self.messages: list[dict] = []

    async def receive(self, timeout: float = 20) -> dict:
        frame = await self.ws.receive_output(timeout)
        if frame["type"] == "websocket.close":
            return {"type": "<closed>", "code": frame.get("code")}
        self.messages.append(json.loads(frame["text"]))
        return self.messages[-1]

    async def receive_until(self, kind: str, timeout: float = 20, **fields) -> dict:
        while True:
            message = await self.receive(timeout)
            if message["type"] == "<closed>" and kind != "<closed>":
                raise AssertionError(f"staff socket closed ({message['code']}) before {kind}")
            if message["type"] == kind and all(message.get(k) == v for k, v in fields.items()):
                return message

    async def event(self, kind: str, call_id: str) -> dict:
        """The event `kind` of `call_id`: among those received already, or the next one."""
        kept = [m for m in self.of_call(call_id) if m["type"] == kind]
        return kept[0] if kept else await self.receive_until(kind, call_id=call_id)

    def of_call(self, call_id: str) -> list[dict]:
        """The live events received about `call_id` (the first snapshot aside)."""
        return [m for m in self.messages if m.get("call_id") == call_id]


@asynccontextmanager
async def staff_socket(host: str, session_key: str | None, *, origin: str | None = None):
    """A `Staff` on `host`'s `/ws/staff/` with the session cookie; disconnected on the way out."""
    headers = [(b"host", host.encode()), (b"origin", (origin or f"http://{host}").encode())]
    if session_key:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    communicator = WebsocketCommunicator(application, "/ws/staff/", headers=headers)
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    try:
        yield Staff(communicator)
    finally:
        if not communicator.future.done():
            await communicator.disconnect(timeout=10)


async def say(caller, text: str) -> dict:
    """Type `text`; return the agent's final answer."""
    await caller.send({"type": "text", "text": text})
    await caller.receive_until("transcript", role="caller", text=text)
    return await caller.receive_until("transcript", role="agent", final=True)


def entries_of(events: list[dict]) -> list[tuple[int, str, str]]:
    return [(e["sequence"], e["role"], e["text"]) for e in events if e["type"] == "call.entry"]


@database_sync_to_async
def stored_entries(schema: str, call_id: str) -> list[tuple[int, str, str]]:
    from voice.models import TranscriptEntry

    with tenant_schema(schema):
        entries = TranscriptEntry.objects.filter(call_id=call_id).order_by("sequence")
        return list(entries.values_list("sequence", "role", "text"))


async def test_joes_staff_watch_joes_call_live_and_pizzas_staff_only_pizzas(joes_key, pizza_key):
    joes_session = await staff_session("joes")
    pizza_session = await staff_session("pizza")
    async with (
        staff_socket(JOES_HOST, joes_session) as joes_staff,
        staff_socket(PIZZA_HOST, pizza_session) as pizza_staff,
    ):
        await joes_staff.receive_until("calls")
        await pizza_staff.receive_until("calls")
        async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as joe_caller:
            joes_call = (await joe_caller.receive())["call_id"]
            price = await say(joe_caller, "How much is a haircut?")
            await say(joe_caller, "Can I speak to a person please?")
            await joe_caller.send({"type": "end"})
            await joe_caller.receive_until("ended")
        async with call(f"key={pizza_key.key}&mode=text", origin=PIZZA_ORIGIN) as pizza_caller:
            pizzas_call = (await pizza_caller.receive())["call_id"]
            await say(pizza_caller, "Do you deliver?")
            await pizza_caller.send({"type": "end"})
            await pizza_caller.receive_until("ended")
        await joes_staff.receive_until("call.ended", call_id=joes_call)
        await pizza_staff.receive_until("call.ended", call_id=pizzas_call)
        joes_transfer = await joes_staff.event("call.transfer", joes_call)
        # Joe's events were all sent before Pizza's call began: none can still be on the way.
        pizza_saw_joes = pizza_staff.of_call(joes_call)
        joes_saw_pizzas = joes_staff.of_call(pizzas_call)

    events = joes_staff.of_call(joes_call)
    started, ended = events[0], events[-1]
    assert (started["type"], started["persona"], started["mode"]) == ("call.started", "Sam", "text")
    assert started["started_at"].endswith("+00:00")  # UTC; pages show the tenant's time
    assert (ended["type"], ended["reason"]) == ("call.ended", "caller_hangup")
    said = entries_of(events)
    assert said == await stored_entries("joes", joes_call)  # every entry, as stored, in order
    assert [text for _, role, text in said if role == "caller"] == [
        "How much is a haircut?",
        "Can I speak to a person please?",
    ]
    assert "25 dollars" in price["text"]
    assert ("agent", price["text"]) in [(role, text) for _, role, text in said]
    tools = [(e["name"], e["status"]) for e in events if e["type"] == "call.tool"]
    assert tools == [("transfer_to_human", "started"), ("transfer_to_human", "succeeded")]
    assert joes_transfer == {"type": "call.transfer", "call_id": joes_call, "reason": ""}
    row, _ = await stored_call(joes_key.tenant, joes_call)
    assert row.needs_human
    assert pizza_saw_joes == [] and joes_saw_pizzas == []
    pizza_events = pizza_staff.of_call(pizzas_call)
    assert ("caller", "Do you deliver?") in [(r, t) for _, r, t in entries_of(pizza_events)]
    assert pizza_events[0]["persona"] == "Gina"


async def test_a_transfer_with_the_agents_reason_and_a_socket_opened_mid_call(joes_key, settings):
    """The reason Gemini gives reaches the staff at once; a staff page opened later gets the call
    in progress from the database: its start, the transcript so far, the transfer and reason."""
    reason = "wants to complain to the manager"
    async with fake_gemini() as gemini:
        settings.NEXUS_AGENT = "gemini"
        settings.GEMINI_API_KEY, settings.GEMINI_BASE_URL = API_KEY, gemini.base_url
        settings.GEMINI_RETRIES = 0
        gemini.script(
            function_call_reply("transfer_to_human", {"reason": reason}),
            text_reply("I'm putting you through to the manager now."),
        )
        session = await staff_session("joes")
        async with staff_socket(JOES_HOST, session) as early:
            await early.receive_until("calls")
            async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
                call_id = (await caller.receive())["call_id"]
                await say(caller, "This is the third time my booking was lost!")
                live = await early.event("call.transfer", call_id)
                stored = await _stored_until(call_id, count=4)  # greeting, caller, tool, agent
                async with staff_socket(JOES_HOST, session) as late:
                    snapshot = await late.receive_until("calls")

    assert live["reason"] == reason
    events = [e for e in snapshot["events"] if e["call_id"] == call_id]
    assert events[0]["type"] == "call.started" and events[0]["persona"] == "Sam"
    assert entries_of(events) == stored
    assert ("caller", "This is the third time my booking was lost!") in [
        (role, text) for _, role, text in stored
    ]
    assert {"type": "call.transfer", "call_id": call_id, "reason": reason} in events


async def _stored_until(call_id: str, count: int) -> list[tuple[int, str, str]]:
    """The call's stored entries, once there are `count` (they are written beside the call)."""
    for _ in range(200):
        entries = await stored_entries("joes", call_id)
        if len(entries) >= count:
            return entries
        await asyncio.sleep(0.1)
    raise AssertionError(f"the call has {entries} stored, not {count} entries")


@pytest.mark.parametrize(
    ("who", "host", "origin"),
    [
        ("nobody", JOES_HOST, None),
        ("not staff", JOES_HOST, None),
        ("staff who may not view calls", JOES_HOST, None),
        ("pizza's staff", JOES_HOST, None),
        ("joe's staff, from another site", JOES_HOST, "http://evil.localhost:8000"),
        ("joe's staff, on the platform's host", "localhost:8000", "http://localhost:8000"),
    ],
)
async def test_a_socket_that_is_not_joes_staff_is_refused(db, who, host, origin):
    match who:
        case "nobody":
            session = None
        case "not staff":
            session = await staff_session("joes", staff=False)
        case "staff who may not view calls":
            session = await staff_session("joes", support=False)
        case "pizza's staff":
            session = await staff_session("pizza")
        case _:
            session = await staff_session("joes")
    async with staff_socket(host, session, origin=origin) as staff:
        first = await staff.receive()

    assert first == {"type": "<closed>", "code": REFUSED}


async def test_joes_staff_are_let_in_and_shown_the_calls_in_progress(db):
    async with staff_socket(JOES_HOST, await staff_session("joes")) as staff:
        first = await staff.receive()

    assert first["type"] == "calls" and isinstance(first["events"], list)


class _BrokenLayer:
    """A channel layer that cannot be reached, or never answers."""

    def __init__(self, hang: bool) -> None:
        self.hang = hang

    async def group_send(self, group: str, message: dict) -> None:
        if self.hang:
            await asyncio.Event().wait()
        raise ConnectionError("the channel layer is down")


@pytest.mark.parametrize("hang", [False, True], ids=["refused", "hanging"])
async def test_a_broken_channel_layer_costs_the_call_nothing(joes_key, monkeypatch, caplog, hang):
    from voice.monitor import publisher

    monkeypatch.setattr(publisher, "channel_layer", lambda: _BrokenLayer(hang))
    monkeypatch.setattr(publisher, "SEND_SECONDS", 0.2)
    caplog.set_level(logging.WARNING, logger="voice.monitor.publisher")
    async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
        call_id = (await caller.receive())["call_id"]
        price = await say(caller, "How much is a haircut?")
        handed_over = await say(caller, "Can I speak to a person please?")
        await caller.send({"type": "end"})
        ended = await caller.receive_until("ended")

    assert "25 dollars" in price["text"] and handed_over["text"]
    assert ended["reason"] == "caller_hangup"
    row, entries = await stored_call(joes_key.tenant, call_id)
    assert row.needs_human and ("caller", "How much is a haircut?") in entries
    await _logged(caplog, f"call {call_id}: staff event not sent")
    await _logged(caplog, "staff event call.transfer not sent")
    for _ in range(300):  # the call's session finishes, its events given up and counted
        if call_id not in [session.call_id for session in live_calls]:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the call's session did not finish")
    counted = [r.getMessage() for r in caplog.records if "staff events not sent" in r.getMessage()]
    assert counted and counted[0].startswith(f"call {call_id}: ")


async def _logged(caplog, message: str) -> None:
    """Wait until `message` is logged (sends give up in the background)."""
    for _ in range(100):
        if message in [record.getMessage() for record in caplog.records]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not logged: {message!r}")
