"""`check_availability` and `book_appointment`: a tenant's appointment calendar.

Opening hours, slot length and time zone are the tenant's tool settings; bookings are rows of the
tenant's schema, one per slot (a database constraint: two callers cannot book the same slot).
A booking made by a retried task is found again by its invocation, never made twice.
"""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, transaction

from tenants_app.db import schema_run
from tools_registry.base import BaseTool, ToolContext, ToolError, ToolResult
from tools_registry.models import Booking
from tools_registry.registry import register

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DEFAULTS = {
    "calendar": "main",
    "timezone": "UTC",
    "slot_minutes": 30,
    "opening_hours": {day: [["09:00", "17:00"]] for day in DAYS[:5]},
}
HHMM = {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$"}
SETTINGS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "calendar": {"type": "string", "minLength": 1, "maxLength": 64},
        "timezone": {"type": "string", "minLength": 1},
        "slot_minutes": {"type": "integer", "minimum": 5, "maximum": 480},
        "opening_hours": {
            "type": "object",
            "propertyNames": {"enum": DAYS},
            "additionalProperties": {
                "type": "array",
                "items": {
                    "type": "array",
                    "prefixItems": [HHMM, HHMM],
                    "minItems": 2,
                    "maxItems": 2,
                },
            },
        },
    },
}
DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}


def _settings(context: ToolContext) -> dict[str, Any]:
    return {**DEFAULTS, **context.settings}


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ToolError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _slots(settings: dict[str, Any], day: dt.date) -> list[dt.datetime]:
    """Every slot start of `day`, in the calendar's time zone."""
    zone = ZoneInfo(settings["timezone"])
    step = dt.timedelta(minutes=settings["slot_minutes"])
    starts = []
    for opens, closes in settings["opening_hours"].get(DAYS[day.weekday()], []):
        start = dt.datetime.combine(day, dt.time.fromisoformat(opens), zone)
        end = dt.datetime.combine(day, dt.time.fromisoformat(closes), zone)
        while start + step <= end:
            starts.append(start)
            start += step
    return starts


def _free_slots(settings: dict[str, Any], day: dt.date) -> list[dt.datetime]:
    slots = _slots(settings, day)
    taken = set(
        Booking.objects.filter(calendar=settings["calendar"], starts_at__in=slots).values_list(
            "starts_at", flat=True
        )
    )
    return [slot for slot in slots if slot not in taken]


def _hhmm(slots: list[dt.datetime]) -> list[str]:
    return [slot.strftime("%H:%M") for slot in slots]


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


@register
class CheckAvailability(CalendarTool):
    name = "check_availability"
    description = "List the free appointment times on a given date."
    parameters = {
        "type": "object",
        "properties": {"date": {**DATE, "description": "the day, YYYY-MM-DD"}},
        "required": ["date"],
        "additionalProperties": False,
    }

    async def execute(self, context: ToolContext, arguments: dict[str, Any]) -> ToolResult:
        settings, day = _settings(context), _date(arguments["date"])
        free = _hhmm(await schema_run(context.schema_name, _free_slots, settings, day))
        label = day.strftime("%A %d %B")
        if not free:
            return ToolResult({"date": day.isoformat(), "free": []}, f"No free times on {label}")
        shown = ", ".join(free[:6]) + (" ..." if len(free) > 6 else "")
        return ToolResult({"date": day.isoformat(), "free": free}, f"Free on {label}: {shown}")


def _book(settings: dict[str, Any], context: ToolContext, arguments: dict[str, Any]) -> Booking:
    existing = Booking.objects.filter(invocation_id=context.invocation_id).first()
    if existing:
        return existing  # the same request, run again: never book twice
    day = _date(arguments["date"])
    wanted = dt.datetime.combine(
        day, dt.time.fromisoformat(arguments["time"]), ZoneInfo(settings["timezone"])
    )
    slots = _slots(settings, day)
    if wanted not in slots:
        opening = ", ".join(_hhmm(slots[:1] + slots[-1:])) or "closed"
        raise ToolError(f"{arguments['time']} on {day} is not a bookable time ({opening})")
    try:
        with transaction.atomic():
            return Booking.objects.create(
                calendar=settings["calendar"],
                starts_at=wanted,
                ends_at=wanted + dt.timedelta(minutes=settings["slot_minutes"]),
                customer_name=arguments["name"],
                service=arguments.get("service", ""),
                call_id=context.call_id,
                invocation_id=context.invocation_id,
            )
    except IntegrityError:
        free = ", ".join(_hhmm(_free_slots(settings, day))[:6]) or "none that day"
        raise ToolError(f"{arguments['time']} on {day} is already taken; free: {free}") from None


@register
class BookAppointment(CalendarTool):
    name = "book_appointment"
    description = "Book an appointment at a free time for the caller."
    parameters = {
        "type": "object",
        "properties": {
            "date": {**DATE, "description": "the day, YYYY-MM-DD"},
            "time": {**HHMM, "description": "the start time, HH:MM (24 h)"},
            "name": {"type": "string", "minLength": 1, "description": "the caller's name"},
            "service": {"type": "string", "description": "what the appointment is for"},
        },
        "required": ["date", "time", "name"],
        "additionalProperties": False,
    }
    slow = True  # a write that may wait on a calendar: run off the call's loop

    async def execute(self, context: ToolContext, arguments: dict[str, Any]) -> ToolResult:
        settings = _settings(context)
        booking = await schema_run(context.schema_name, _book, settings, context, arguments)
        local = booking.starts_at.astimezone(ZoneInfo(settings["timezone"]))
        when = local.strftime("%A %d %B at %H:%M")
        return ToolResult(
            {"booking_id": booking.pk, "date": local.date().isoformat(), "time": f"{local:%H:%M}"},
            f"Booked for {booking.customer_name}: {when}",
        )
