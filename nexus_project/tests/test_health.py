"""`/healthz` and `/readyz` through the ASGI application, on any host, before Django."""

import asyncio
import contextlib
import json
import socket
import time

import pytest
from channels.testing import HttpCommunicator

from nexus_project import draining, health
from nexus_project.asgi import application

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(30)]

UNKNOWN_HOST = "10.0.0.5:8000"  # a load balancer's probe, by address


async def get(path: str, host: str = UNKNOWN_HOST, method: str = "GET") -> dict:
    communicator = HttpCommunicator(application, method, path, headers=[(b"host", host.encode())])
    response = await communicator.get_response(timeout=10)
    response["headers"] = {
        name.decode().lower(): value.decode() for name, value in response["headers"]
    }
    return response


def closed_port() -> int:
    """A port nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.asynccontextmanager
async def listening():
    """A TCP port that accepts connections and never says a word."""

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # hold the connection until the client lets go
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


@pytest.mark.parametrize("host", [UNKNOWN_HOST, "joes.localhost:8000"])
async def test_healthz_answers_on_any_host_never_cached(host):
    response = await get("/healthz", host)

    assert response["status"] == 200
    assert json.loads(response["body"]) == {"status": "ok"}
    assert response["headers"]["content-type"] == "application/json"
    assert response["headers"]["cache-control"] == "no-store"


@pytest.mark.parametrize("host", [UNKNOWN_HOST, "joes.localhost:8000"])
async def test_readyz_reports_every_check_on_any_host(db, settings, host):
    settings.PERSONAPLEX_URLS = []
    settings.NEXUS_VOICE_FALLBACK = "cascade"

    started = time.perf_counter()
    response = await get("/readyz", host)
    took = time.perf_counter() - started

    body = json.loads(response["body"])
    print(f"\n/readyz on {host}: {took * 1000:.0f} ms; checks {body['checks']}")
    assert response["status"] == 200, body
    assert response["headers"]["cache-control"] == "no-store"
    assert body["status"] == "ok" and body["draining"] is False
    checks = {"database", "redis", "channel_layer", "voice", "event_loop", "calls"}
    assert set(body["checks"]) == checks
    assert all(check["ok"] and check["ms"] >= 0 for check in body["checks"].values())
    assert body["checks"]["voice"]["served_by"] == "cascade"
    assert body["checks"]["voice"]["sidecars"] == 0


async def test_other_paths_of_an_unknown_host_are_still_refused_by_django(db):
    for path in ("/healthz/", "/readyz/x", "/admin/"):
        response = await get(path)
        # django-tenants answers a host outside ALLOWED_HOSTS with a plain 404, as before
        assert response["status"] == 404, path
        assert response["headers"]["content-type"].startswith("text/html"), path


async def test_head_has_no_body_and_other_methods_are_not_allowed(db):
    head = await get("/healthz", method="HEAD")
    post = await get("/readyz", method="POST")

    assert head["status"] == 200 and head["body"] == b""
    assert post["status"] == 405 and post["headers"]["allow"] == "GET, HEAD"


async def test_readyz_is_503_naming_redis_when_redis_is_unreachable(db, settings):
    settings.PERSONAPLEX_URLS = []
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"

    response = await get("/readyz")

    body = json.loads(response["body"])
    assert response["status"] == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["redis"]["error"].startswith("ConnectionError")
    assert "127.0.0.1" not in response["body"].decode()  # addresses go to the log only
    assert body["checks"]["database"]["ok"] and body["checks"]["voice"]["ok"]


async def test_readyz_is_503_naming_the_voice_when_no_sidecar_answers(db, settings):
    settings.PERSONAPLEX_URLS = [f"ws://127.0.0.1:{closed_port()}#sessions=2"]

    response = await get("/readyz")

    body = json.loads(response["body"])
    voice = body["checks"]["voice"]
    assert response["status"] == 503
    assert voice["ok"] is False and voice["error"] == "no PersonaPlex sidecar reachable"
    assert voice["unreachable"] == [
        {"sidecar": 1, "error": "ConnectionRefusedError: Connection refused"}
    ]
    assert body["checks"]["redis"]["ok"] and body["checks"]["database"]["ok"]


async def test_a_sidecar_name_that_does_not_resolve_is_named_by_its_kind(db, settings):
    settings.PERSONAPLEX_URLS = ["wss://no-such-sidecar.invalid:8998"]

    response = await get("/readyz")

    voice = json.loads(response["body"])["checks"]["voice"]
    assert response["status"] == 503
    assert voice["unreachable"][0]["error"].startswith("gaierror: ")
    assert "no-such-sidecar" not in response["body"].decode()


async def test_readyz_is_200_when_one_sidecar_of_several_answers(db, settings):
    async with listening() as port:
        settings.PERSONAPLEX_URLS = [
            f"ws://127.0.0.1:{closed_port()}",
            f"wss://127.0.0.1:{port}#sessions=4",
        ]
        response = await get("/readyz")

    voice = json.loads(response["body"])["checks"]["voice"]
    assert response["status"] == 200
    assert voice["served_by"] == "personaplex"
    assert (voice["sidecars"], voice["reachable"]) == (2, 1)
    assert voice["unreachable"][0]["sidecar"] == 1


async def test_a_check_that_hangs_is_cut_at_its_timeout(db, settings, monkeypatch):
    monkeypatch.setattr(health, "CHECK_SECONDS", 0.3)
    async with listening() as port:
        settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"  # accepts, never answers PING
        settings.PERSONAPLEX_URLS = []
        started = time.perf_counter()
        response = await get("/readyz")
        took = time.perf_counter() - started

    redis = json.loads(response["body"])["checks"]["redis"]
    print(f"\n/readyz with Redis silent: {took * 1000:.0f} ms")
    assert response["status"] == 503
    assert redis["ok"] is False and 250 <= redis["ms"] < 1000
    assert took < 1.5


async def test_a_draining_process_is_not_ready_but_alive(monkeypatch):
    monkeypatch.setattr(draining, "_draining", True)

    ready = await get("/readyz")
    alive = await get("/healthz")

    assert ready["status"] == 503
    assert json.loads(ready["body"]) == {"status": "draining", "draining": True, "checks": {}}
    assert alive["status"] == 200
