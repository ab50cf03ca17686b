"""The post-call analysis task: a worker analyzes one call after another, each in its own loop."""

from urllib.parse import urlsplit

import psutil
import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connection
from django.test import override_settings

from tenants_app.db import tenant_schema
from tools_registry.tests.helpers import finished_call
from voice.models import Call, Persona, TranscriptEntry
from voice.tasks import call_analyze
from voice.tests.fake_gemini import API_KEY, json_reply

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.filterwarnings("ignore:Inheritance class AiohttpClientSession"),
]


def analysis(intent: str) -> dict:
    return {
        "summary": f"The caller asked about {intent}.",
        "intent": intent,
        "sentiment": "neutral",
        "outcome": "answered",
        "follow_up_needed": False,
    }


@database_sync_to_async
def call_with_a_question(question: str) -> str:
    with tenant_schema("joes"):
        call = finished_call(Persona.objects.order_by("id").first())
        TranscriptEntry.objects.create(
            call=call, sequence=0, role="caller", text=question, start_ms=0, end_ms=900
        )
        return str(call.pk)


@database_sync_to_async
def stored_analysis(call_id: str) -> dict | None:
    with tenant_schema("joes"):
        return Call.objects.get(pk=call_id).analysis


def connections_to(base_url: str) -> list:
    """This process's open TCP connections to the server at `base_url`."""
    port = urlsplit(base_url).port
    return [
        conn
        for conn in psutil.Process().net_connections(kind="tcp")
        if conn.raddr and conn.raddr.port == port and conn.status == psutil.CONN_ESTABLISHED
    ]


def one_worker_runs(*call_ids: str) -> None:
    """The tasks run one after another in one thread, as a worker process runs them."""
    try:
        for call_id in call_ids:
            call_analyze(schema_name="joes", call_id=call_id)
    finally:
        connection.close()  # this thread's own connection


async def test_one_worker_analyzes_two_calls_through_gemini(joes, fake):
    first = await call_with_a_question("When are you open on Saturday?")
    second = await call_with_a_question("How much is a beard trim?")
    fake.script(json_reply(analysis("opening hours")), json_reply(analysis("prices")))

    gemini = {"NEXUS_AGENT": "gemini", "GEMINI_API_KEY": API_KEY, "GEMINI_RETRIES": 0}
    with override_settings(**gemini, GEMINI_BASE_URL=fake.base_url):
        await sync_to_async(one_worker_runs, thread_sensitive=False)(first, second)

    assert connections_to(fake.base_url) == []  # no task left its connections behind
    assert (await stored_analysis(first))["intent"] == "opening hours"
    assert (await stored_analysis(second))["intent"] == "prices"
    requests = [request.texts()[0].splitlines() for request in fake.requests]
    assert [lines[0] for lines in requests] == ["Business: Joe's Barbershop"] * 2
    assert [lines[lines.index("Transcript:") + 1] for lines in requests] == [
        "Caller: When are you open on Saturday?",
        "Caller: How much is a beard trim?",
    ]
