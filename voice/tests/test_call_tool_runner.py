"""The call's tool runner: only enabled tools, validated arguments, every attempt on record,
one card per run with the tool's title, slow tools in Celery."""

import asyncio
import contextlib

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from tenants_app.db import tenant_schema
from tenants_app.models import Tenant
from tools_registry.builtin.calendar import BookAppointment
from tools_registry.models import Booking, InvocationStatus, ToolInvocation
from tools_registry.slow import SlowTools
from tools_registry.tests.helpers import finished_call, next_weekday
from tools_registry.when import spoken_day
from voice.call.tools import CallToolRunner
from voice.models import Call, Persona

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db, pytest.mark.timeout(60)]


@database_sync_to_async
def persona_and_call(schema: str) -> tuple[Persona, Call, dict, dict]:
    hours = Tenant.objects.get(schema_name=schema).opening_hours
    with tenant_schema(schema):
        persona = Persona.objects.first()
        enabled = dict(persona.tools.filter(is_enabled=True).values_list("tool_name", "settings"))
        return persona, finished_call(persona), enabled, hours


@database_sync_to_async
def invocations(schema: str, call: Call) -> list[tuple[str, str]]:
    with tenant_schema(schema):
        return list(ToolInvocation.objects.filter(call=call).values_list("tool_name", "status"))


@database_sync_to_async
def errors(schema: str, call: Call) -> list[str]:
    with tenant_schema(schema):
        return list(ToolInvocation.objects.filter(call=call).values_list("error", flat=True))


@contextlib.asynccontextmanager
async def runner_for(schema: str):
    """A runner as a live call has it, with its channel for slow tools' results."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    slow_tools = SlowTools(channel)
    reports: list[dict] = []

    async def consume() -> None:
        while True:
            slow_tools.deliver(await layer.receive(channel))

    async def report(message: dict) -> None:
        reports.append(message)

    persona, call, enabled, hours = await persona_and_call(schema)
    consumer = asyncio.create_task(consume())
    runner = CallToolRunner(
        schema_name=schema,
        call_id=str(call.pk),
        persona_id=persona.pk,
        enabled=enabled,
        timezone="America/New_York",
        opening_hours=hours,
        slow_tools=slow_tools,
        report=report,
    )
    runner.reports, runner.call = reports, call
    try:
        yield runner
    finally:
        consumer.cancel()


async def test_only_the_personas_enabled_tools_are_offered_and_run(joes, pizza):
    async with runner_for("pizza") as runner:
        outcome = await runner.run("check_availability", {"date": "2030-01-01"})
        offered = {spec.name for spec in runner.specs}

    assert "check_availability" not in offered and "knowledge_search" in offered
    assert outcome.ok is False
    assert outcome.result == {"error": "no tool 'check_availability' for this agent"}
    assert await invocations("pizza", runner.call) == [("check_availability", "rejected")]
    assert await errors("pizza", runner.call) == ["no tool 'check_availability' for this agent"]
    assert [r["status"] for r in runner.reports] == ["rejected"]  # for staff: not a card


async def test_invalid_arguments_come_back_as_a_structured_error(joes):
    async with runner_for("joes") as runner:
        outcome = await runner.run("check_availability", {"date": "next week", "extra": 1})

    assert outcome.ok is False
    assert outcome.result["error"] == "invalid arguments"
    assert any("'extra' was unexpected" in d for d in outcome.result["details"])
    assert await invocations("joes", runner.call) == [("check_availability", "rejected")]
    [error] = await errors("joes", runner.call)
    assert error.startswith("invalid arguments; (top level): Additional properties")


async def test_a_fast_tool_runs_inline_and_is_recorded(joes):
    day = next_weekday(3, weeks_ahead=30)
    async with runner_for("joes") as runner:
        outcome = await runner.run("check_availability", {"date": day.isoformat()})

    assert outcome.ok and outcome.result["free"][0] == "09:00"
    assert [r["status"] for r in runner.reports] == ["started", "succeeded"]
    assert {r["title"] for r in runner.reports} == {"Free times"}
    assert await invocations("joes", runner.call) == [("check_availability", "succeeded")]


async def test_a_slow_tool_runs_in_a_celery_worker(joes, pizza, celery_worker):
    day = next_weekday(4, weeks_ahead=30)
    async with runner_for("joes") as runner:
        outcome = await runner.run(
            "book_appointment",
            {"date": day.isoformat(), "time": "12:00", "name": "Worker", "confirmed": True},
        )

    assert outcome.ok, outcome.result
    assert outcome.summary == f"Booked for Worker: {spoken_day(day)} at 12:00"
    assert await invocations("joes", runner.call) == [("book_appointment", "succeeded")]

    @database_sync_to_async
    def booked(schema: str) -> bool:
        with tenant_schema(schema):
            return Booking.objects.filter(customer_name="Worker", call=runner.call).exists()

    assert await booked("joes") and not await booked("pizza")


async def test_no_worker_means_a_timeout_the_caller_hears_about(joes, monkeypatch):
    monkeypatch.setattr(BookAppointment, "timeout", 1.0)
    day = next_weekday(5, weeks_ahead=30)
    async with runner_for("joes") as runner:
        outcome = await runner.run(
            "book_appointment", {"date": day.isoformat(), "time": "12:00", "name": "Nobody"}
        )

    assert outcome.ok is False
    assert outcome.summary == "Booking is not answering right now; please try again in a moment."
    assert runner.reports[-1]["status"] == "failed"
    assert await invocations("joes", runner.call) == [
        ("book_appointment", InvocationStatus.TIMED_OUT)
    ]
