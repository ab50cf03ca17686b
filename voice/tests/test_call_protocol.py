"""The caller protocol, row by row: refusals, messages, bad input (text path, no sidecar)."""

import asyncio
import contextlib
import uuid

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model, login
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.db import connection
from django.http import HttpRequest

from tenants_app.db import tenant_schema
from tenants_app.models import Tenant
from voice.call import caller_audio as caller_audio_module
from voice.models import Call, CallStatus, Persona, WidgetKey
from voice.services import widget_key_revoke
from voice.tests.conftest import JOES_ORIGIN, call, stored_call

pytestmark = pytest.mark.asyncio


@pytest.fixture(autouse=True)
def no_sidecars(settings):
    settings.PERSONAPLEX_URLS = []
    settings.NEXUS_VOICE_FALLBACK = "text"


@database_sync_to_async
def revoke(key) -> None:
    with tenant_schema(key.tenant.schema_name):
        widget_key_revoke(widget_key=WidgetKey.objects.get(key=key.key))


@database_sync_to_async
def set_active(model, tenant: Tenant | None, active: bool) -> None:
    """Switch a tenant or its personas on or off, saving as the admin does."""
    if model is Tenant:
        tenant = Tenant.objects.get(pk=tenant.pk)
        tenant.is_active = active
        tenant.save()
        return
    with tenant_schema(tenant.schema_name):
        for persona in Persona.objects.all():
            persona.is_active = active
            persona.save()


@database_sync_to_async
def set_limit(tenant: Tenant, limit: int) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(concurrent_call_limit=limit)


async def assert_refused(query: str, code: int, origin: str | None = JOES_ORIGIN) -> None:
    async with call(query, origin=origin) as caller:
        assert caller.connected  # accepted, then closed with the code
        closed = await caller.receive()
        assert closed == {"type": "<closed>", "code": code}


# Refusals.


@pytest.mark.parametrize(
    "extra",
    [
        "format=mp3",
        "rate=4000",
        "rate=abc",
        "out=wav",
        "mode=video",
        "rate=96000",
        "rate=%C2%B2",  # a superscript two: a digit to Python, not a rate
        "rate=%D9%A3%D9%A0%D9%A0%D9%A0%D9%A0",  # 30000 in Arabic-Indic digits
        "rate=+16000",
        "rate=%FF",  # not UTF-8
        "frame_ms=30",  # not an Opus frame length
        "frame_ms=abc",
    ],
)
async def test_malformed_parameter_is_refused_with_4400(joes_key, extra):
    await assert_refused(f"key={joes_key.key}&{extra}", 4400)


async def test_missing_key_is_refused_with_4401(db):
    await assert_refused("format=pcm16", 4401)


async def test_unknown_key_is_refused_with_4401(db):
    await assert_refused("key=pk_doesnotexist", 4401)


async def test_revoked_key_is_refused_with_4401(joes_key):
    await revoke(joes_key)
    await assert_refused(f"key={joes_key.key}", 4401)


@pytest.mark.parametrize("origin", ["http://evil.example", "http://joes.localhost:9999", None])
async def test_origin_not_allowed_is_refused_with_4403(joes_key, origin):
    await assert_refused(f"key={joes_key.key}", 4403, origin=origin)


async def test_inactive_agent_is_refused_with_4404(joes_key):
    await set_active(Persona, joes_key.tenant, False)
    try:
        await assert_refused(f"key={joes_key.key}", 4404)
    finally:
        await set_active(Persona, joes_key.tenant, True)


async def test_inactive_tenant_is_refused_with_4404(joes_key):
    await set_active(Tenant, joes_key.tenant, False)
    try:
        await assert_refused(f"key={joes_key.key}", 4404)
    finally:
        await set_active(Tenant, joes_key.tenant, True)


async def test_concurrent_call_limit_is_refused_with_4429(joes_key):
    await set_limit(joes_key.tenant, 1)
    try:
        async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as first:
            assert (await first.receive())["type"] == "session"
            await assert_refused(f"key={joes_key.key}&mode=text", 4429)
    finally:
        await set_limit(joes_key.tenant, 5)


# Messages.


async def test_session_is_the_first_message(joes_key):
    query = f"key={joes_key.key}&format=pcm16&rate=16000&frame_ms=40"
    async with call(query, origin=JOES_ORIGIN) as caller:
        session = await caller.receive()

    assert session["type"] == "session"
    assert session["mode"] == "voice"
    assert session["agent"] == {"name": "Sam"}
    assert session["audio"] == {
        "in": {"format": "pcm16", "rate": 16000, "frame_ms": 40},
        "out": {"format": "pcm16", "rate": 24000},
    }
    row, _ = await stored_call(joes_key.tenant, session["call_id"])
    assert row is not None and row.persona.slug == "receptionist"


async def test_voice_without_sidecars_switches_to_text_and_greets(joes_key):
    async with call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller:
        await caller.receive()
        mode = await caller.receive()
        greeting = await caller.receive()

    assert mode == {"type": "mode", "mode": "text", "reason": "sidecar_unavailable"}
    assert greeting["role"] == "agent" and greeting["final"] is True
    assert greeting["text"].startswith("Thanks for calling Joe's Barbershop")


async def test_typed_text_is_answered_and_stored(joes_key):
    async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
        call_id = (await caller.receive())["call_id"]
        await caller.receive_until("transcript", role="agent")  # greeting
        await caller.send({"type": "text", "text": "How much is a haircut?"})
        mine = await caller.receive_until("transcript", role="caller")
        answer = await caller.receive_until("transcript", role="agent")
        await caller.send({"type": "end"})
        ended = await caller.receive_until("ended")

    assert mine["text"] == "How much is a haircut?" and mine["final"] is True
    assert "25 dollars" in answer["text"]
    assert ended == {"type": "ended", "reason": "caller_hangup"}
    row, entries = await stored_call(joes_key.tenant, call_id)
    assert row.status == CallStatus.ENDED and row.end_reason == "caller_hangup"
    assert ("caller", "How much is a haircut?") in entries
    assert entries[-1][0] == "agent" and "25 dollars" in entries[-1][1]


async def test_typed_text_is_stored_without_its_control_characters(joes_key):
    async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
        call_id = (await caller.receive())["call_id"]
        await caller.send({"type": "text", "text": "Hidden\x00 line\x07 here\x1b[2K"})
        mine = await caller.receive_until("transcript", role="caller")
        await caller.receive_until("transcript", role="agent", final=True)
        await caller.send({"type": "end"})
        await caller.receive_until("ended")

    assert mine["text"] == "Hidden line here[2K"
    _, entries = await stored_call(joes_key.tenant, call_id)
    assert ("caller", "Hidden line here[2K") in entries


async def test_ping_gets_pong(joes_key):
    async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
        await caller.send({"type": "ping"})
        assert await caller.receive_until("pong") == {"type": "pong"}


async def test_disconnect_closes_the_call_and_keeps_the_transcript(joes_key):
    async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
        call_id = (await caller.receive())["call_id"]
        await caller.send({"type": "text", "text": "Are you open on Sunday?"})
        await caller.receive_until("transcript", role="caller")

    row, entries = await stored_call(joes_key.tenant, call_id)
    assert row.status == CallStatus.ENDED
    assert row.end_reason == "caller_disconnected"
    assert ("caller", "Are you open on Sunday?") in entries


async def test_the_call_is_stored_in_its_tenant_only(joes_key, pizza_key):
    async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
        call_id = (await caller.receive())["call_id"]
        await caller.send({"type": "text", "text": "joes only"})
        await caller.receive_until("transcript", role="caller")

    joes_row, _ = await stored_call(joes_key.tenant, call_id)
    pizza_row, _ = await stored_call(pizza_key.tenant, call_id)
    assert joes_row is not None
    assert pizza_row is None


@database_sync_to_async
def db_thread_backend() -> int:
    """The PostgreSQL backend serving Channels' DB thread, where calls run their queries."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@database_sync_to_async
def call_delete(tenant: Tenant, call_id: str) -> None:
    """Delete a call a test committed: other tests count the rows of `pizza`."""
    with tenant_schema(tenant.schema_name):
        Call.objects.filter(pk=call_id).delete()


async def test_one_kept_connection_serves_two_tenants_calls_each_in_its_own_schema(
    joes_key, pizza_key
):
    backend = await db_thread_backend()
    call_ids = {}
    try:
        for key in (joes_key, pizza_key):
            async with call(f"key={key.key}&mode=text", origin=key.origin) as caller:
                call_ids[key] = (await caller.receive())["call_id"]
                await caller.send({"type": "text", "text": f"{key.tenant.slug} speaking"})
                await caller.receive_until("transcript", role="caller")

        assert await db_thread_backend() == backend  # both calls ran on the one kept connection
        _, joes_entries = await stored_call(joes_key.tenant, call_ids[joes_key])
        _, pizza_entries = await stored_call(pizza_key.tenant, call_ids[pizza_key])
        assert ("caller", "joes speaking") in joes_entries
        assert ("caller", "pizza speaking") in pizza_entries
        assert (await stored_call(pizza_key.tenant, call_ids[joes_key]))[0] is None
        assert (await stored_call(joes_key.tenant, call_ids[pizza_key]))[0] is None
    finally:
        for key, call_id in call_ids.items():
            await call_delete(key.tenant, call_id)


# Bad input.


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        ("not json", "invalid JSON"),
        ('["text"]', "JSON object"),
        ('{"type": "dance"}', "unknown message type 'dance'"),
        ('{"type": "text"}', "'text' needs a 'text' string"),
        ('{"type": "text", "text": ""}', "'text' needs a 'text' string"),
        ('{"type": "text", "text": "' + "x" * 2001 + '"}', "1..2000"),
    ],
)
async def test_bad_message_is_an_error_and_the_call_goes_on(joes_key, frame, problem):
    async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
        await caller.ws.send_to(text_data=frame)
        error = await caller.receive_until("error")
        await caller.send({"type": "ping"})
        pong = await caller.receive_until("pong")

    assert error["code"] == "bad_message"
    assert problem in error["message"]
    assert pong == {"type": "pong"}


@pytest.mark.parametrize("kind", ["text", "bytes"])
async def test_oversized_frame_is_dropped_and_the_call_goes_on(joes_key, kind):
    async with call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller:
        if kind == "text":
            await caller.ws.send_to(text_data='{"type":"text","text":"' + "a" * 9000 + '"}')
        else:
            await caller.send_audio(b"\0" * (64 * 1024 + 2))
        error = await caller.receive_until("error")
        await caller.send({"type": "text", "text": "still there?"})
        echoed = await caller.receive_until("transcript", role="caller")

    assert error["code"] == "message_too_large"
    assert echoed["text"] == "still there?"


async def test_audio_in_text_mode_is_an_error(joes_key):
    async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
        await caller.send_audio(b"\0\0" * 480)
        error = await caller.receive_until("error")

    assert error["code"] == "bad_message"


async def test_undecodable_audio_is_reported_at_most_once_a_second(joes_key):
    async with call(f"key={joes_key.key}&format=ogg-opus", origin=JOES_ORIGIN) as caller:
        for _ in range(10):
            await caller.send_audio(b"garbage, not ogg" * 10)
        await caller.send({"type": "ping"})
        messages = []
        while (message := await caller.receive())["type"] != "pong":
            messages.append(message)

    errors = [m for m in messages if m["type"] == "error"]
    assert [e["code"] for e in errors] == ["bad_audio"]  # ten bad frames, one report
    assert "not valid Ogg" in errors[0]["message"]


async def test_sustained_garbage_ends_the_call(joes_key, monkeypatch):
    monkeypatch.setattr(caller_audio_module, "BAD_AUDIO_END_SECONDS", 0.5)
    async with call(f"key={joes_key.key}&format=webm-opus", origin=JOES_ORIGIN) as caller:
        call_id = (await caller.receive())["call_id"]
        for _ in range(8):
            await caller.send_audio(b"\x00garbage" * 50)
            await asyncio.sleep(0.1)
        ended = await caller.receive_until("ended")
        closed = await caller.receive()

    assert ended == {"type": "ended", "reason": "bad_audio"}
    assert closed["type"] == "<closed>"
    row, _ = await stored_call(joes_key.tenant, call_id)
    assert row.end_reason == "bad_audio"


# Other ways in and out.


async def test_server_shutdown_closes_the_call(joes_key):
    """Daphne cancels every application on shutdown and waits for it: the call is closed."""
    async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
        call_id = (await caller.receive())["call_id"]
        await caller.send({"type": "text", "text": "Said before the restart"})
        await caller.receive_until("transcript", role="caller")
        caller.ws.future.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await caller.ws.future

    row, entries = await stored_call(joes_key.tenant, call_id)
    assert row.status == CallStatus.ENDED and row.end_reason == "server_shutdown"
    assert ("caller", "Said before the restart") in entries


@database_sync_to_async
def admin_session(tenant: Tenant, *, staff: bool = True) -> str:
    """A session of a new user of `tenant`, logged in as the admin's login does; its key."""
    with tenant_schema(tenant.schema_name):
        user = get_user_model().objects.create_user(
            username=f"tester-{uuid.uuid4().hex[:8]}", password="x", is_staff=staff
        )
        request = HttpRequest()
        request.session = SessionStore()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session.save()
        return request.session.session_key


@database_sync_to_async
def password_change(tenant: Tenant, session_key: str) -> None:
    """The session's user sets a new password (elsewhere: the session is not updated)."""
    with tenant_schema(tenant.schema_name):
        user_id = SessionStore(session_key)["_auth_user_id"]
        user = get_user_model().objects.get(pk=user_id)
        user.set_password("a-new-password")
        user.save()


async def test_admin_test_call_by_agent_slug(joes_key):
    key = await admin_session(joes_key.tenant)
    host = "joes.localhost:8000"
    query = "agent=receptionist&mode=text"
    async with call(query, origin=f"http://{host}", host=host, cookie=f"sessionid={key}") as caller:
        session = await caller.receive()

    assert session["type"] == "session"
    assert session["agent"] == {"name": "Sam"}


@pytest.mark.parametrize(
    ("host", "origin", "with_session", "code"),
    [
        ("joes.localhost:8000", "http://joes.localhost:8000", False, 4401),  # not logged in
        ("pizza.localhost:8000", "http://pizza.localhost:8000", True, 4401),  # Joe's session
        ("joes.localhost:8000", "http://evil.example", True, 4403),
        ("nowhere.localhost:8000", "http://nowhere.localhost:8000", True, 4404),
    ],
)
async def test_admin_test_call_needs_that_tenants_session(
    joes_key, host, origin, with_session, code
):
    key = await admin_session(joes_key.tenant)
    cookie = f"sessionid={key}" if with_session else ""
    async with call("agent=receptionist", origin=origin, host=host, cookie=cookie) as caller:
        assert await caller.receive() == {"type": "<closed>", "code": code}


async def test_admin_test_call_from_a_session_older_than_a_password_change_is_4401(joes_key):
    key = await admin_session(joes_key.tenant)
    await password_change(joes_key.tenant, key)
    host = "joes.localhost:8000"
    async with call(
        "agent=receptionist", origin=f"http://{host}", host=host, cookie=f"sessionid={key}"
    ) as caller:
        assert await caller.receive() == {"type": "<closed>", "code": 4401}


async def test_admin_test_call_of_an_unknown_agent_is_4404(joes_key):
    key = await admin_session(joes_key.tenant)
    host = "joes.localhost:8000"
    async with call(
        "agent=nobody", origin=f"http://{host}", host=host, cookie=f"sessionid={key}"
    ) as caller:
        assert await caller.receive() == {"type": "<closed>", "code": 4404}


@database_sync_to_async
def set_greeting(tenant: Tenant, greeting: str) -> str:
    with tenant_schema(tenant.schema_name):
        persona = Persona.objects.get()
        previous, persona.greeting = persona.greeting, greeting
        persona.save()
        return previous


async def greeting_of_a_new_call(key) -> str:
    async with call(f"key={key.key}&mode=text", origin=JOES_ORIGIN) as caller:
        return (await caller.receive_until("transcript", role="agent"))["text"]


async def test_an_admin_change_applies_to_the_next_call(joes_key):
    before = await greeting_of_a_new_call(joes_key)  # now cached
    previous = await set_greeting(joes_key.tenant, "Joe's here, what can I do for you?")
    try:
        after = await greeting_of_a_new_call(joes_key)
    finally:
        await set_greeting(joes_key.tenant, previous)

    assert before == previous
    assert after == "Joe's here, what can I do for you?"


@database_sync_to_async
def stale_call(tenant: Tenant) -> str:
    with tenant_schema(tenant.schema_name):
        return str(Call.objects.create(persona=Persona.objects.get()).pk)


async def test_calls_left_open_by_a_stopped_server_can_be_closed(joes_key):
    call_id = await stale_call(joes_key.tenant)

    await database_sync_to_async(call_command)("calls_close_stale")

    row, _ = await stored_call(joes_key.tenant, call_id)
    assert row.status == CallStatus.ENDED and row.end_reason == "server_restart"
