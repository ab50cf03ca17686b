"""`check_availability` and `book_appointment`: a tenant's appointment calendar.

Bookings are taken in the business's opening hours (the tenant's, entered once for all its tools);
slot length and calendar name are the tool's settings. Times are the business's (its time zone,
unless a calendar of another place names its own). Days and times are taken as callers say
them ("tomorrow", "Friday", "3pm": `tools_registry.when`) and said back in full ("Tuesday 8
December at 15:00"); a day gone, a closed day or a time outside the hours is refused with a
sentence the agent can say. A booking is a write: unless `confirmed`, the tool checks the slot
and asks for the caller's yes to that exact slot instead of booking. Bookings are rows of the
tenant's schema, one per slot (a database constraint: two callers cannot book the same slot); a
booking made by a retried task is found again by its invocation, never made twice.
"""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, transaction

from tenants_app.db import schema_run
from tenants_app.opening_hours import DAYS, days_text
from tools_registry.base import BaseTool, ToolContext, ToolError, ToolResult
from tools_registry.models import Booking
from tools_registry.registry import register
from tools_registry.when import day_resolve, spoken_day, spoken_slot, time_resolve

DEFAULTS = {"calendar": "main", "slot_minutes": 30}
SETTINGS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "calendar": {
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "description": "bookings are kept per calendar (default: main)",
        },
        "timezone": {
            "type": "string",
            "minLength": 1,
            "description": "only for a calendar of another place than the business",
        },
        "slot_minutes": {
            "type": "integer",
            "minimum": 5,
            "maximum": 480,
            "description": "length of one appointment (default: 30)",
        },
    },
}
DAY = {
    "type": "string",
    "minLength": 1,
    "maxLength": 60,
    "description": "the day as the caller said it: 'tomorrow', 'Friday', 'the 8th', 2026-12-08",
}
TIME = {
    "type": "string",
    "minLength": 1,
    "maxLength": 40,
    "description": "the start time as the caller said it: '3pm', '15:00', 'half past two'",
}
SHOWN_FREE = 6  # free times said in one answer


class Calendar:
    """One tenant's calendar for one call: its settings, its opening hours, its time zone, its
    local now."""

    def __init__(self, context: ToolContext) -> None:
        self.settings = {**DEFAULTS, **context.settings}
        self.hours = context.opening_hours
        self.zone = ZoneInfo(self.settings.get("timezone") or context.timezone)
        self.now = dt.datetime.now(self.zone)

    def day(self, phrase: str) -> dt.date:
        """The open day `phrase` names; ToolError (sayable) for a day gone or closed."""
        open_days = [day for day in DAYS if self.hours.get(day)]
        if not open_days:
            raise ToolError("Bookings can't be taken: the business has no opening hours set.")
        day = day_resolve(phrase, self.now.date())
        if not self.slots(day):
            raise ToolError(
                f"We're closed on {spoken_day(day)}; we're open {days_text(open_days)}."
            )
        return day

    def slot(self, day: dt.date, phrase: str) -> dt.datetime:
        """The slot at the time `phrase` names on `day` (its afternoon, for "at 3" when the
        afternoon is open); ToolError (sayable) for a time gone or outside the hours."""
        time, either_half = time_resolve(phrase)
        candidates = [time]
        if either_half and time.hour < 12:
            candidates.append(time.replace(hour=time.hour + 12))
        slots = self.slots(day)
        wanted = [dt.datetime.combine(day, when, self.zone) for when in candidates]
        start = next((slot for slot in wanted if slot in slots), wanted[0])
        if start <= self.now:
            raise ToolError(f"{spoken_slot(start)} has passed; which time would you like?")
        if start not in slots:
            first, last = slots[0], slots[-1]
            raise ToolError(
                f"{start:%H:%M} is not a time we take bookings on {spoken_day(day)}: the"
                f" first is {first:%H:%M}, the last {last:%H:%M}, every"
                f" {self.settings['slot_minutes']} minutes."
            )
        return start

    def slots(self, day: dt.date) -> list[dt.datetime]:
        """Every slot start of `day` in its opening hours, in the calendar's time zone."""
        step = dt.timedelta(minutes=self.settings["slot_minutes"])
        starts = []
        for opens, closes in self.hours.get(DAYS[day.weekday()], []):
            start = dt.datetime.combine(day, dt.time.fromisoformat(opens), self.zone)
            end = dt.datetime.combine(day, dt.time.fromisoformat(closes), self.zone)
            while start + step <= end:
                starts.append(start)
                start += step
        return starts

    def free(self, day: dt.date) -> list[dt.datetime]:
        """The slots of `day` still ahead and not booked (in the tenant's schema)."""
        slots = [slot for slot in self.slots(day) if slot > self.now]
        taken = set(
            Booking.objects.filter(
                calendar=self.settings["calendar"], starts_at__in=slots
            ).values_list("starts_at", flat=True)
        )
        return [slot for slot in slots if slot not in taken]


def _times(slots: list[dt.datetime]) -> str:
    shown = ", ".join(f"{slot:%H:%M}" for slot in slots[:SHOWN_FREE])
    return shown + (" ..." if len(slots) > SHOWN_FREE else "")


class CalendarTool(BaseTool):
    settings_schema = SETTINGS_SCHEMA

    def settings_errors(self, settings: dict[str, Any]) -> list[str]:
        errors = super().settings_errors(settings)
        if isinstance(settings.get("timezone"), str):
            try:
                ZoneInfo(settings["timezone"])
            except (ZoneInfoNotFoundError, ValueError):
                errors.append(f"timezone: {settings['timezone']!r} is not a known time zone")
        return errors


def _availability(calendar: Calendar, phrase: str) -> ToolResult:
    day = calendar.day(phrase)
    free = calendar.free(day)
    data = {"date": day.isoformat(), "free": [f"{slot:%H:%M}" for slot in free]}
    if not free:
        return ToolResult(data, f"No free times left on {spoken_day(day)}")
    return ToolResult(data, f"Free on {spoken_day(day)}: {_times(free)}")


@register
class CheckAvailability(CalendarTool):
    name = "check_availability"
    title = "Free times"
    keywords = ("free", "available", "availability", "openings", "slots", "slot")
    description = "List the free appointment times on a day the caller names."
    parameters = {
        "type": "object",
        "properties": {"date": DAY},
        "required": ["date"],
        "additionalProperties": False,
    }

    async def execute(self, context: ToolContext, arguments: dict[str, Any]) -> ToolResult:
        calendar = Calendar(context)
        return await schema_run(context.schema_name, _availability, calendar, arguments["date"])


def _book(calendar: Calendar, context: ToolContext, arguments: dict[str, Any]) -> ToolResult:
    existing = Booking.objects.filter(invocation_id=context.invocation_id).first()
    if existing:  # the same request, run again: never book twice
        return _booked(existing, calendar)
    day = calendar.day(arguments["date"])
    start = calendar.slot(day, arguments["time"])
    name, service = arguments["name"].strip(), arguments.get("service", "").strip()
    what = f"{service.capitalize() or 'An appointment'} on {spoken_slot(start)} for {name}"
    free = calendar.free(day)
    if start not in free:
        raise ToolError(
            f"{spoken_slot(start)} is already taken; free that day: {_times(free) or 'none'}"
        )
    if not arguments.get("confirmed"):
        data = {
            "confirm_with_caller": what,
            "next": "say it back and book with confirmed=true once the caller says yes",
            "date": day.isoformat(),
            "time": f"{start:%H:%M}",
        }
        return ToolResult(data, f"{spoken_slot(start)} is free")
    try:
        with transaction.atomic():
            booking = Booking.objects.create(
                calendar=calendar.settings["calendar"],
                starts_at=start,
                ends_at=start + dt.timedelta(minutes=calendar.settings["slot_minutes"]),
                customer_name=name,
                service=service,
                call_id=context.call_id,
                invocation_id=context.invocation_id,
            )
    except IntegrityError:
        left = _times(calendar.free(day)) or "none"
        raise ToolError(f"{spoken_slot(start)} was just taken; free that day: {left}") from None
    return _booked(booking, calendar)


def _booked(booking: Booking, calendar: Calendar) -> ToolResult:
    local = booking.starts_at.astimezone(calendar.zone)
    data = {"booking_id": booking.pk, "date": local.date().isoformat(), "time": f"{local:%H:%M}"}
    return ToolResult(data, f"Booked for {booking.customer_name}: {spoken_slot(local)}")


@register
class BookAppointment(CalendarTool):
    name = "book_appointment"
    title = "Booking"
    keywords = ("book", "booking", "appointment", "reserve", "schedule")
    description = (
        "Book an appointment for the caller at a free time. Call it first without `confirmed`:"
        " it checks the slot and gives the exact date to say back; book with `confirmed: true`"
        " only after the caller said yes to that exact slot."
    )
    parameters = {
        "type": "object",
        "properties": {
            "date": DAY,
            "time": TIME,
            "name": {"type": "string", "minLength": 1, "description": "the caller's full name"},
            "service": {"type": "string", "description": "what the appointment is for"},
            "confirmed": {
                "type": "boolean",
                "description": "true only once the caller said yes to this exact slot",
            },
        },
        "required": ["date", "time", "name"],
        "additionalProperties": False,
    }
    slow = True  # a write that may wait on a calendar: run off the call's loop

    async def execute(self, context: ToolContext, arguments: dict[str, Any]) -> ToolResult:
        calendar = Calendar(context)
        return await schema_run(context.schema_name, _book, calendar, context, arguments)
