"""Prometheus metrics: a call moves the counters it should, and `/metrics` answers only the
scrapers it is meant for."""

import pytest
from channels.testing import HttpCommunicator
from prometheus_client import REGISTRY

from nexus_project.asgi import application
from tools_registry.when import spoken_slot
from voice.tests.conftest import JOES_ORIGIN, at_3pm, call

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(90)]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def scrape(client: str, authorization: str = "") -> dict:
    headers = [(b"host", b"10.0.0.5:8000")]
    if authorization:
        headers.append((b"authorization", authorization.encode()))
    communicator = HttpCommunicator(application, "GET", "/metrics", headers=headers)
    communicator.scope["client"] = (client, 40000)
    return await communicator.get_response(timeout=10)


async def test_a_voice_call_with_a_booking_moves_its_counters(
    joes_key, open_day, settings, celery_worker
):
    settings.PERSONAPLEX_URLS = []  # the cascade voices the call: a mode switch
    said, day = open_day
    before = {
        "started": sample("nexus_calls_started_total", tenant="joes", mode="voice"),
        "ended": sample("nexus_calls_ended_total", tenant="joes", reason="caller_hangup"),
        "switches": sample(
            "nexus_mode_switches_total",
            mode="voice",
            engine="cascade",
            reason="sidecar_unavailable",
        ),
        "tools": sample(
            "nexus_tool_invocations_total",
            tenant="joes",
            tool="book_appointment",
            status="succeeded",
        ),
        "durations": sample("nexus_call_duration_seconds_count", tenant="joes"),
    }
    async with call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller:
        await caller.receive_until("ready", timeout=30)
        active = sample("nexus_calls_active", tenant="joes")
        await caller.send(
            {"type": "text", "text": f"Can I book a haircut {said} at 3pm? My name is Jamie Lee"}
        )
        card = await caller.receive_until("tool", status="succeeded", timeout=60)
        await caller.send({"type": "end"})
        await caller.receive_until("ended", timeout=30)

    assert card["summary"] == f"{spoken_slot(at_3pm(day))} is free"
    assert active >= 1
    assert sample("nexus_calls_started_total", tenant="joes", mode="voice") == before["started"] + 1
    ended = sample("nexus_calls_ended_total", tenant="joes", reason="caller_hangup")
    assert ended == before["ended"] + 1
    switches = sample(
        "nexus_mode_switches_total", mode="voice", engine="cascade", reason="sidecar_unavailable"
    )
    assert switches == before["switches"] + 1
    tools = sample(
        "nexus_tool_invocations_total", tenant="joes", tool="book_appointment", status="succeeded"
    )
    assert tools == before["tools"] + 1
    assert sample("nexus_call_duration_seconds_count", tenant="joes") == before["durations"] + 1


async def test_a_refused_handshake_is_counted_by_its_close_code(db):
    before = sample("nexus_handshakes_refused_total", code="4401")
    async with call("key=pk_not_a_key", origin=JOES_ORIGIN) as caller:
        closed = await caller.receive()
    assert closed == {"type": "<closed>", "code": 4401}
    assert sample("nexus_handshakes_refused_total", code="4401") == before + 1


async def test_metrics_answer_loopback_and_the_token_and_nobody_else(db, settings):
    settings.NEXUS_METRICS_TOKEN = "scrape-secret"
    async with call("key=pk_not_a_key", origin=JOES_ORIGIN) as caller:
        await caller.receive()  # refused: something to count
    local = await scrape("127.0.0.1")
    stranger = await scrape("203.0.113.9")
    with_token = await scrape("203.0.113.9", "Bearer scrape-secret")
    wrong_token = await scrape("203.0.113.9", "Bearer guess")

    assert local["status"] == 200
    assert b"# TYPE nexus_handshakes_refused_total counter" in local["body"]
    assert b'nexus_handshakes_refused_total{code="4401"}' in local["body"]
    assert b"_created" not in local["body"]
    assert stranger["status"] == 403 and wrong_token["status"] == 403
    assert with_token["status"] == 200


async def test_the_tenant_label_can_be_turned_off(joes_key, settings):
    settings.NEXUS_METRICS_TENANT_LABEL = False
    before = sample("nexus_calls_started_total", tenant="all", mode="text")
    async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
        await caller.receive()
    assert sample("nexus_calls_started_total", tenant="all", mode="text") == before + 1
