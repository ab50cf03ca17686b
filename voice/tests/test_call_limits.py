"""Nobody holds a tenant's lines: idle timeout, maximum duration, calls per client, refused
handshakes per client address (behind a trusted proxy, the address it forwards)."""

import asyncio
import contextlib

import pytest
from channels.db import database_sync_to_async
from django.test import override_settings

from tenants_app.models import Tenant
from voice.call.limits import IDLE_GOODBYE, MAX_DURATION_GOODBYE
from voice.tests.conftest import JOES_ORIGIN, call, stored_call

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]


@pytest.fixture(autouse=True)
def no_sidecars(settings):
    settings.PERSONAPLEX_URLS = []
    settings.NEXUS_VOICE_FALLBACK = "text"


@database_sync_to_async
def tenant_update(tenant: Tenant, **fields) -> dict:
    """Save new values on the tenant as its admin does; return the values they replaced."""
    row = Tenant.objects.get(pk=tenant.pk)
    before = {name: getattr(row, name) for name in fields}
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return before


@contextlib.asynccontextmanager
async def tenant_limits(tenant: Tenant, **fields):
    before = await tenant_update(tenant, **fields)
    try:
        yield
    finally:
        await tenant_update(tenant, **before)


async def opened(caller) -> dict:
    """The first message: `session`, or the close that refused the call."""
    return await caller.receive()


async def test_a_silent_call_is_ended_after_the_idle_timeout(joes_key):
    async with (
        tenant_limits(joes_key.tenant, call_idle_timeout_seconds=2),
        call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller,
    ):
        call_id = (await opened(caller))["call_id"]
        for _ in range(4):  # typing keeps the call alive, past the idle timeout
            await caller.send({"type": "text", "text": "Hello?"})
            await caller.receive_until("transcript", role="agent", final=True)
            await asyncio.sleep(0.5)
        goodbye = await caller.receive_until("transcript", role="agent", text=IDLE_GOODBYE)
        ended = await caller.receive_until("ended", timeout=10)

    assert goodbye["final"] is True
    assert ended == {"type": "ended", "reason": "timeout"}
    row, entries = await stored_call(joes_key.tenant, call_id)
    assert row.end_reason == "timeout"
    assert entries[-1] == ("agent", IDLE_GOODBYE)


async def test_a_call_ends_at_the_maximum_duration_however_busy(joes_key):
    async with (
        tenant_limits(joes_key.tenant, call_max_duration_seconds=2),
        call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller,
    ):
        call_id = (await opened(caller))["call_id"]
        await caller.send({"type": "text", "text": "What are your opening hours?"})
        await caller.receive_until("transcript", role="agent", text=MAX_DURATION_GOODBYE)
        ended = await caller.receive_until("ended", timeout=10)

    assert ended == {"type": "ended", "reason": "max_duration"}
    row, _ = await stored_call(joes_key.tenant, call_id)
    assert row.end_reason == "max_duration"


async def test_one_client_holds_at_most_its_share_of_a_tenants_lines(joes_key):
    query = f"key={joes_key.key}&mode=text"
    async with tenant_limits(joes_key.tenant, calls_per_client_limit=2):
        async with (
            call(query, origin=JOES_ORIGIN, client="10.9.0.1") as first,
            call(query, origin=JOES_ORIGIN, client="10.9.0.1") as second,
        ):
            assert (await opened(first))["type"] == "session"
            assert (await opened(second))["type"] == "session"
            async with call(query, origin=JOES_ORIGIN, client="10.9.0.1") as third:
                refused = await opened(third)
            async with call(query, origin=JOES_ORIGIN, client="10.9.0.2") as other:
                other_client = await opened(other)
        async with call(query, origin=JOES_ORIGIN, client="10.9.0.1") as again:
            after_hang_up = await opened(again)

    assert refused == {"type": "<closed>", "code": 4429}
    assert other_client["type"] == "session"
    assert after_hang_up["type"] == "session"


@override_settings(NEXUS_REFUSED_HANDSHAKES_PER_MINUTE=3)
async def test_an_address_refused_too_often_is_refused_even_with_a_good_key(joes_key):
    for _ in range(3):
        async with call("key=pk_guessing", origin=JOES_ORIGIN, client="10.9.1.1") as guess:
            assert await opened(guess) == {"type": "<closed>", "code": 4401}
    good = f"key={joes_key.key}&mode=text"
    async with call(good, origin=JOES_ORIGIN, client="10.9.1.1") as caller:
        locked_out = await opened(caller)
    async with call(good, origin=JOES_ORIGIN, client="10.9.1.2") as caller:
        elsewhere = await opened(caller)

    assert locked_out == {"type": "<closed>", "code": 4429}
    assert elsewhere["type"] == "session"


async def count_per_client(joes_key, *, client: str, forwarded: list[str]) -> list[dict]:
    """Open a call for each `X-Forwarded-For` value at once, from `client`; their first
    messages, with one call per client allowed."""
    query = f"key={joes_key.key}&mode=text"
    async with (
        tenant_limits(joes_key.tenant, calls_per_client_limit=1),
        contextlib.AsyncExitStack() as stack,
    ):
        firsts = []
        for value in forwarded:
            caller = await stack.enter_async_context(
                call(query, origin=JOES_ORIGIN, client=client, forwarded_for=value)
            )
            firsts.append(await opened(caller))
        return firsts


@override_settings(NEXUS_TRUSTED_PROXIES=["10.8.0.0/24"])
async def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(joes_key):
    firsts = await count_per_client(
        joes_key, client="10.8.0.5", forwarded=["198.51.100.7", "198.51.100.8", "198.51.100.7"]
    )

    assert [first["type"] for first in firsts] == ["session", "session", "<closed>"]
    assert firsts[2]["code"] == 4429


@override_settings(NEXUS_TRUSTED_PROXIES=["10.8.0.0/24"])
async def test_a_forwarded_address_from_anyone_else_is_ignored(joes_key):
    firsts = await count_per_client(
        joes_key, client="10.9.2.1", forwarded=["198.51.100.7", "198.51.100.8"]
    )

    assert [first["type"] for first in firsts] == ["session", "<closed>"]
