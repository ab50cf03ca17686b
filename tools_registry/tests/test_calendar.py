"""The calendar tools: days and times as callers say them in the business's time zone, free
slots from the tenant's opening hours, a yes before a booking, bookings one per slot and never
twice."""

import asyncio
import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connection

from tenants_app.db import tenant_schema
from tenants_app.opening_hours import DAYS
from tools_registry.base import ToolContext, ToolError
from tools_registry.builtin.calendar import DEFAULTS, Calendar, _book
from tools_registry.models import Booking, ToolInvocation
from tools_registry.registry import tool_get
from tools_registry.tests.helpers import finished_call, next_weekday
from tools_registry.when import spoken_day
from voice.models import Persona

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db]

SETTINGS = {**DEFAULTS, "calendar": "test-calendar"}
HOURS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
NEW_YORK = "America/New_York"
_weeks = itertools.count(2)  # each test books in a week of its own


@database_sync_to_async
def new_invocation(schema: str, timezone: str = NEW_YORK, hours: dict = HOURS) -> ToolContext:
    with tenant_schema(schema):
        call = finished_call(Persona.objects.first())
        invocation = ToolInvocation.objects.create(call=call, tool_name="book_appointment")
        return ToolContext(
            schema, str(call.pk), call.persona_id, invocation.pk, SETTINGS, timezone, hours
        )


@database_sync_to_async
def bookings(schema: str, day: dt.date) -> list[str]:
    with tenant_schema(schema):
        return [
            f"{b.customer_name} {b.starts_at.astimezone(dt.UTC):%H:%M}"
            for b in Booking.objects.filter(calendar="test-calendar", starts_at__date=day)
        ]


async def book(context: ToolContext, **arguments) -> str:
    """Book for real (the caller said yes); the summary."""
    tool = tool_get("book_appointment")
    return (await tool.execute(context, {**arguments, "confirmed": True})).summary


async def test_availability_lists_the_free_slots_of_an_open_day(joes):
    day = next_weekday(0, weeks_ahead=next(_weeks))  # a Monday: open in HOURS
    context = await new_invocation("joes")

    result = await tool_get("check_availability").execute(context, {"date": day.isoformat()})

    assert result.data["free"][:3] == ["09:00", "09:30", "10:00"]
    assert result.data["free"][-1] == "16:30"
    assert result.summary.startswith(f"Free on {spoken_day(day)}: 09:00, 09:30")


async def test_a_closed_day_is_refused_saying_when_it_is_open(joes):
    sunday = next_weekday(6)
    context = await new_invocation("joes")

    with pytest.raises(ToolError) as refused:
        await tool_get("check_availability").execute(context, {"date": sunday.isoformat()})

    assert refused.value.message == (
        f"We're closed on {spoken_day(sunday)}; we're open Monday to Friday."
    )


@pytest.mark.parametrize("said", ["yesterday", "2020-03-02"])
async def test_a_day_gone_is_refused_with_a_sentence_to_say(joes, said):
    with pytest.raises(ToolError, match="is in the past; which day would you like"):
        await tool_get("check_availability").execute(await new_invocation("joes"), {"date": said})


async def test_a_phrase_that_is_no_one_day_is_refused(joes):
    with pytest.raises(ToolError, match="'next week' is not one day"):
        await tool_get("check_availability").execute(
            await new_invocation("joes"), {"date": "next week"}
        )


async def test_days_as_callers_say_them_are_the_business_days(joes):
    context = await new_invocation("joes", timezone="Pacific/Kiritimati")  # UTC+14
    today = dt.datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    monday = today + dt.timedelta(days=(0 - today.weekday()) % 7 or 7)

    result = await tool_get("check_availability").execute(context, {"date": "next monday"})

    assert result.data["date"] in {monday.isoformat(), (monday + dt.timedelta(7)).isoformat()}
    assert dt.date.fromisoformat(result.data["date"]).weekday() == 0


async def test_a_booking_asks_for_the_callers_yes_to_the_exact_slot_first(joes):
    day = next_weekday(1, weeks_ahead=next(_weeks))
    context = await new_invocation("joes")
    arguments = {"date": day.isoformat(), "time": "half past two", "name": "Jamie Lee"}

    offered = await tool_get("book_appointment").execute(context, arguments)

    assert offered.data["confirm_with_caller"] == (
        f"An appointment on {spoken_day(day)} at 14:30 for Jamie Lee"
    )
    assert offered.summary == f"{spoken_day(day)} at 14:30 is free"
    assert await bookings("joes", day) == []


async def test_booking_takes_the_slot_in_its_tenant_only(joes, pizza):
    day = next_weekday(1, weeks_ahead=next(_weeks))
    context = await new_invocation("joes")

    summary = await book(context, date=day.isoformat(), time="10am", name="Ann Lee")
    after = await tool_get("check_availability").execute(context, {"date": day.isoformat()})

    assert summary == f"Booked for Ann Lee: {spoken_day(day)} at 10:00"
    assert "10:00" not in after.data["free"]
    assert await bookings("joes", day) == ["Ann Lee 15:00"]  # 10:00 in New York, 15:00 UTC
    assert await bookings("pizza", day) == []


async def test_a_bare_hour_is_read_within_the_opening_hours(joes):
    day = next_weekday(2, weeks_ahead=next(_weeks))
    context = await new_invocation("joes")

    assert await book(context, date=day.isoformat(), time="at 3", name="Cy") == (
        f"Booked for Cy: {spoken_day(day)} at 15:00"
    )


async def test_a_retried_booking_is_not_made_twice(joes):
    day = next_weekday(2, weeks_ahead=next(_weeks))
    context = await new_invocation("joes")
    arguments = {"date": day.isoformat(), "time": "11:00", "name": "Bo", "confirmed": True}
    tool = tool_get("book_appointment")

    first = await tool.execute(context, arguments)
    again = await tool.execute(context, arguments)  # the same invocation, e.g. a retried task

    assert first.data == again.data
    assert await bookings("joes", day) == ["Bo 16:00"]


async def test_a_taken_slot_is_refused_with_the_free_ones(joes):
    day = next_weekday(3, weeks_ahead=next(_weeks))
    await book(await new_invocation("joes"), date=str(day), time="09:00", name="A")

    with pytest.raises(ToolError, match="already taken; free that day: 09:30, 10:00"):
        await book(await new_invocation("joes"), date=str(day), time="09:00", name="B")


async def test_outside_opening_hours_is_refused(joes):
    day = next_weekday(4, weeks_ahead=next(_weeks))

    with pytest.raises(ToolError, match=r"20:00 is not a time we take bookings on .*: the first"):
        await book(await new_invocation("joes"), date=str(day), time="20:00", name="Late")


async def test_a_time_gone_today_is_refused(joes):
    always_open = {day: [["00:00", "23:59"]] for day in DAYS}
    context = await new_invocation("joes", timezone="UTC", hours=always_open)

    with pytest.raises(ToolError, match="at 00:00 has passed; which time would you like"):
        await book(context, date="today", time="00:00", name="Early")


async def test_two_concurrent_callers_cannot_book_the_same_slot(joes):
    """Two bookings race on two database connections: the constraint lets exactly one in."""
    day = next_weekday(1, weeks_ahead=next(_weeks))
    contexts = [await new_invocation("joes") for _ in range(2)]

    def book_in_thread(context: ToolContext, name: str):
        arguments = {"date": day.isoformat(), "time": "14:00", "name": name, "confirmed": True}
        try:
            with tenant_schema("joes"):
                return _book(Calendar(context), context, arguments)
        finally:
            connection.close()  # this thread's own connection

    results = await asyncio.gather(
        sync_to_async(book_in_thread, thread_sensitive=False)(contexts[0], "First"),
        sync_to_async(book_in_thread, thread_sensitive=False)(contexts[1], "Second"),
        return_exceptions=True,
    )

    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], ToolError)
    assert "taken" in str(errors[0])
    assert len(await bookings("joes", day)) == 1


async def test_the_tenants_own_hours_decide_what_can_be_booked(joes):
    """Joe's hours, as his config states them once: Tuesday to Saturday, 9:00 to 18:00."""
    monday = next_weekday(0, weeks_ahead=next(_weeks))
    tuesday = monday + dt.timedelta(days=1)
    context = await new_invocation("joes", hours=joes.opening_hours)

    with pytest.raises(ToolError) as refused:
        await book(context, date=str(monday), time="10:00", name="Mo")
    summary = await book(context, date=str(tuesday), time="17:30", name="Tu")

    assert refused.value.message == (
        f"We're closed on {spoken_day(monday)}; we're open Tuesday to Saturday."
    )
    assert summary == f"Booked for Tu: {spoken_day(tuesday)} at 17:30"  # past the old 17:00


async def test_without_opening_hours_no_booking_is_taken(joes):
    context = await new_invocation("joes", hours={})

    with pytest.raises(ToolError, match="the business has no opening hours set"):
        await tool_get("check_availability").execute(context, {"date": "tomorrow"})
