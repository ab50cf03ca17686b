"""Joe's Barbershop's own tool, registered from outside the core (see NEXUS_TOOL_MODULES).

`walk_in_wait`: how long a walk-in customer would wait now, from the bookings of the next hour.
A slow tool: a Celery worker runs it and sends its result back to the call.
"""

import datetime as dt
from typing import Any

from django.utils import timezone

from tenants_app.db import schema_run
from tools_registry.base import BaseTool, ToolContext, ToolResult
from tools_registry.models import Booking
from tools_registry.registry import register

MINUTES_PER_BOOKING = 20


def _bookings_next_hour(calendar: str) -> int:
    now = timezone.now()
    return Booking.objects.filter(
        calendar=calendar, starts_at__gte=now, starts_at__lt=now + dt.timedelta(hours=1)
    ).count()


@register
class WalkInWait(BaseTool):
    name = "walk_in_wait"
    title = "Walk-in wait"
    keywords = ("walk in", "how long wait", "queue")
    description = "Tell how long a walk-in customer would wait at Joe's right now."
    slow = True  # a business's own code runs in a Celery worker, never on the calls' event loop
    settings_schema = {
        "type": "object",
        "properties": {"calendar": {"type": "string"}},
        "additionalProperties": False,
    }

    async def execute(self, context: ToolContext, arguments: dict[str, Any]) -> ToolResult:
        calendar = context.settings.get("calendar", "main")
        booked = await schema_run(context.schema_name, _bookings_next_hour, calendar)
        minutes = booked * MINUTES_PER_BOOKING
        summary = f"About {minutes} minutes' wait" if minutes else "No wait right now"
        return ToolResult({"wait_minutes": minutes, "bookings_next_hour": booked}, summary)
