"""What staff read of the tools in the business's admin: bookings in its local time, and every
attempt at a tool, the rejected ones with why."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils.formats import date_format

from tools_registry.models import Booking, ToolInvocation
from tools_registry.services import tool_invocation_reject
from tools_registry.tests.helpers import finished_call, next_weekday
from voice.models import Persona

JOES = "joes.localhost"
NY = ZoneInfo("America/New_York")


def test_a_booking_at_3pm_in_new_york_shows_as_3pm_in_joes_admin(
    joes_admin_client, joes, in_schema
):
    day = next_weekday(1, weeks_ahead=3)
    starts = dt.datetime.combine(day, dt.time(15, 0), NY)
    with in_schema(joes):
        Booking.objects.create(
            calendar="main",
            starts_at=starts,
            ends_at=starts + dt.timedelta(minutes=30),
            customer_name="Jamie Lee",
        )

    page = joes_admin_client.get("/admin/tools_registry/booking/", HTTP_HOST=JOES)

    html = page.content.decode()
    local, utc = (date_format(starts.astimezone(zone), "DATETIME_FORMAT") for zone in (NY, dt.UTC))
    assert local.endswith(", 3 p.m.") and utc.endswith((", 7 p.m.", ", 8 p.m."))
    assert "Jamie Lee" in html and local in html and utc not in html


def test_a_rejected_tool_call_is_a_row_staff_can_see(joes_admin_client, joes, in_schema):
    with in_schema(joes):
        call = finished_call(Persona.objects.get())
        invocation_id = tool_invocation_reject(
            call_id=str(call.pk),
            tool_name="book_appointment",
            arguments={"date": "Tuesday"},
            error="invalid arguments; 'time' is a required property",
        )

    listing = joes_admin_client.get(
        "/admin/tools_registry/toolinvocation/?status=rejected", HTTP_HOST=JOES
    ).content.decode()
    detail = joes_admin_client.get(
        f"/admin/tools_registry/toolinvocation/{invocation_id}/change/", HTTP_HOST=JOES
    ).content.decode()

    assert "book_appointment" in listing and "Rejected" in listing
    assert "&#x27;time&#x27; is a required property" in detail
    with in_schema(joes):
        assert ToolInvocation.objects.get(pk=invocation_id).status == "rejected"
