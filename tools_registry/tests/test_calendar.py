"""The calendar tools: free slots from opening hours, bookings one per slot, never twice."""

import asyncio
import datetime as dt
import itertools

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connection

from tenants_app.db import tenant_schema
from tools_registry.base import ToolContext, ToolError
from tools_registry.builtin.calendar import DEFAULTS, _book
from tools_registry.models import Booking, ToolInvocation
from tools_registry.registry import tool_get
from tools_registry.tests.helpers import finished_call, next_weekday
from voice.models import Persona

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db]

SETTINGS = {**DEFAULTS, "timezone": "America/New_York", "calendar": "test-calendar"}
_weeks = itertools.count(2)  # each test books in a week of its own


@database_sync_to_async
def new_invocation(schema: str) -> ToolContext:
    with tenant_schema(schema):
        call = finished_call(Persona.objects.first())
        invocation = ToolInvocation.objects.create(call=call, tool_name="book_appointment")
        return ToolContext(schema, str(call.pk), call.persona_id, invocation.pk, SETTINGS)


@database_sync_to_async
def bookings(schema: str, day: dt.date) -> list[str]:
    with tenant_schema(schema):
        return [
            f"{b.customer_name} {b.starts_at.astimezone(dt.UTC):%H:%M}"
            for b in Booking.objects.filter(calendar="test-calendar", starts_at__date=day)
        ]


async def test_availability_lists_the_free_slots_of_an_open_day(joes):
    day = next_weekday(0, weeks_ahead=next(_weeks))  # a Monday: open in the default hours
    context = await new_invocation("joes")

    result = await tool_get("check_availability").execute(context, {"date": day.isoformat()})

    assert result.data["free"][:3] == ["09:00", "09:30", "10:00"]
    assert result.data["free"][-1] == "16:30"
    assert result.summary.startswith(f"Free on {day:%A}")


async def test_availability_of_a_closed_day_is_empty(joes):
    sunday = next_weekday(6)
    context = await new_invocation("joes")

    result = await tool_get("check_availability").execute(context, {"date": sunday.isoformat()})

    assert result.data["free"] == []
    assert result.summary.startswith("No free times")


async def test_booking_takes_the_slot_in_its_tenant_only(joes, pizza):
    day = next_weekday(1, weeks_ahead=next(_weeks))
    context = await new_invocation("joes")
    tool = tool_get("book_appointment")

    result = await tool.execute(context, {"date": day.isoformat(), "time": "10:00", "name": "Ann"})
    after = await tool_get("check_availability").execute(context, {"date": day.isoformat()})

    assert result.summary == f"Booked for Ann: {day:%A %d %B} at 10:00"
    assert "10:00" not in after.data["free"]
    assert await bookings("joes", day) == ["Ann 15:00"]  # 10:00 in New York is 15:00 UTC
    assert await bookings("pizza", day) == []


async def test_a_retried_booking_is_not_made_twice(joes):
    day = next_weekday(2, weeks_ahead=next(_weeks))
    context = await new_invocation("joes")
    arguments = {"date": day.isoformat(), "time": "11:00", "name": "Bo"}
    tool = tool_get("book_appointment")

    first = await tool.execute(context, arguments)
    again = await tool.execute(context, arguments)  # the same invocation, e.g. a retried task

    assert first.data == again.data
    assert await bookings("joes", day) == ["Bo 16:00"]


async def test_a_taken_slot_is_refused_with_the_free_ones(joes):
    day = next_weekday(3, weeks_ahead=next(_weeks))
    tool = tool_get("book_appointment")
    await tool.execute(
        await new_invocation("joes"), {"date": str(day), "time": "09:00", "name": "A"}
    )

    with pytest.raises(ToolError, match="already taken; free: 09:30, 10:00"):
        await tool.execute(
            await new_invocation("joes"), {"date": str(day), "time": "09:00", "name": "B"}
        )


async def test_outside_opening_hours_is_refused(joes):
    day = next_weekday(4, weeks_ahead=next(_weeks))

    with pytest.raises(ToolError, match="not a bookable time"):
        await tool_get("book_appointment").execute(
            await new_invocation("joes"), {"date": str(day), "time": "20:00", "name": "Late"}
        )


async def test_two_concurrent_callers_cannot_book_the_same_slot(joes):
    """Two bookings race on two database connections: the constraint lets exactly one in."""
    day = next_weekday(1, weeks_ahead=next(_weeks))
    contexts = [await new_invocation("joes") for _ in range(2)]

    def book(context: ToolContext, name: str):
        arguments = {"date": day.isoformat(), "time": "14:00", "name": name}
        try:
            with tenant_schema("joes"):
                return _book(SETTINGS, context, arguments)
        finally:
            connection.close()  # this thread's own connection

    results = await asyncio.gather(
        sync_to_async(book, thread_sensitive=False)(contexts[0], "First"),
        sync_to_async(book, thread_sensitive=False)(contexts[1], "Second"),
        return_exceptions=True,
    )

    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], ToolError)
    assert "already taken" in str(errors[0])
    assert len(await bookings("joes", day)) == 1
