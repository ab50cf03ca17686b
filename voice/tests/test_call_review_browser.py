"""A support user reviews a finished call and reads the dashboard, in real Chromium at 1280 px.

The call has a recording (a tone in Ogg/Opus, in the recordings' storage), served by the
tenant's own recording view; a time of the timeline seeks the player there. Screenshots go to
test-artifacts/.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone

from tenants_app.db import tenant_schema
from tenants_app.models import Tenant
from tenants_app.tests.factories import PASSWORD, user_create
from tools_registry.models import InvocationStatus, ToolInvocation
from voice.audio.base import PCM_RATE
from voice.audio.formats.ogg_opus import OggOpusStreamEncoder
from voice.models import Call, CallStatus, EndReason, Persona, TranscriptEntry
from voice.tests.browser import artifact, chromium, live_server

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(180)]

SCREEN = {"width": 1280, "height": 900}
JOES_HOST = "joes.localhost"
SUPPORT = "joes-review-support"
RECORDING_SECONDS = 20
TOOL_AT_MS = 12_460


def recording_ogg() -> bytes:
    """A quiet 440 Hz tone as long as the call, in Ogg/Opus as calls are recorded."""
    t = np.arange(RECORDING_SECONDS * PCM_RATE) / PCM_RATE
    encoder = OggOpusStreamEncoder()
    pages = encoder.encode((np.sin(2 * np.pi * 440 * t) * 3000).astype(np.int16))
    return b"".join([*pages, *encoder.flush()])


@database_sync_to_async
def reviewed_call_create() -> str:
    """A committed, finished call of Joe's from a minute ago, with a recording, a booking and
    an interrupted agent turn; and a committed support user."""
    with tenant_schema("joes"):
        user_create(SUPPORT, support=True)
        started = timezone.now() - dt.timedelta(minutes=1)
        call = Call.objects.create(persona=Persona.objects.get())
        Call.objects.filter(pk=call.pk).update(
            started_at=started,
            status=CallStatus.ENDED,
            ended_at=started + dt.timedelta(seconds=RECORDING_SECONDS),
            end_reason=EndReason.CALLER_HANGUP,
            analysis={"summary": "Booked a haircut.", "outcome": "Booking made",
                      "sentiment": "positive", "intent": "booking", "follow_up_needed": False,
                      "analyzer": "offline (no AI model)"},
            metrics={"duration_ms": RECORDING_SECONDS * 1000, "interruptions": 1,
                     "uplink_latency": {"count": 900, "p50_ms": 2.7, "p99_ms": 9.8}},
        )  # fmt: skip
        for sequence, role, text, start_ms, interrupted in [
            (0, "agent", "Thanks for calling Joe's Barbershop, this is Sam.", 0, False),
            (1, "caller", "Can I book a haircut for tomorrow at 3 pm?", 4_200, False),
            (2, "agent", "We are open Tuesday to", 3_100, True),
            (3, "agent", "You're booked for tomorrow at 3 pm.", 13_000, False),
        ]:
            TranscriptEntry.objects.create(
                call=call, sequence=sequence, role=role, text=text, start_ms=start_ms,
                end_ms=start_ms + 800, interrupted=interrupted,
            )  # fmt: skip
        invocation = ToolInvocation.objects.create(
            call=call,
            tool_name="book_appointment",
            arguments={"day": "tomorrow", "time": "15:00", "name": "Jamie Lee"},
            result={"data": {}, "summary": "Booked Jamie Lee for tomorrow at 3 pm."},
            status=InvocationStatus.SUCCEEDED,
            finished_at=started + dt.timedelta(milliseconds=TOOL_AT_MS + 150),
            duration_ms=150,
        )
        ToolInvocation.objects.filter(pk=invocation.pk).update(
            started_at=started + dt.timedelta(milliseconds=TOOL_AT_MS)
        )
        call.refresh_from_db()
        call.recording.save(f"{call.pk}.ogg", ContentFile(recording_ogg()))
        return str(call.pk)


@database_sync_to_async
def earlier_calls_create() -> list[str]:
    """Committed, finished calls of Joe's on earlier days, with various outcomes."""
    zone = ZoneInfo(Tenant.objects.get(slug="joes").timezone)
    today = timezone.localtime(timezone.now(), zone).date()
    outcomes = ["Booking made", "answered", "unanswered", None]
    ids = []
    with tenant_schema("joes"):
        for n, days_ago in enumerate([1, 1, 2, 4, 4, 4, 7, 9, 12, 15, 21]):
            started = dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(11), zone)
            call = Call.objects.create(persona=Persona.objects.get())
            Call.objects.filter(pk=call.pk).update(
                started_at=started,
                status=CallStatus.ENDED,
                ended_at=started + dt.timedelta(seconds=45 + 30 * n),
                end_reason=EndReason.CALLER_HANGUP,
                needs_human=days_ago == 2,
                analysis={"outcome": outcomes[n % 4], "summary": "Asked for a person."}
                if outcomes[n % 4]
                else None,
            )
            ids.append(str(call.pk))
    return ids


@database_sync_to_async
def calls_today_count() -> int:
    """Joe's calls that started on Joe's today, counted here without the dashboard's code."""
    zone = ZoneInfo(Tenant.objects.get(slug="joes").timezone)
    midnight = dt.datetime.combine(timezone.localtime(timezone.now(), zone).date(), dt.time(), zone)
    with tenant_schema("joes"):
        return Call.objects.filter(started_at__gte=midnight).count()


@database_sync_to_async
def rows_delete(call_id: str, earlier: list[str]) -> None:
    with tenant_schema("joes"):
        call = Call.objects.get(pk=call_id)
        call.recording.delete(save=False)
        call.delete()
        Call.objects.filter(pk__in=earlier).delete()
        get_user_model().objects.filter(username=SUPPORT).delete()


async def test_support_reviews_a_call_and_reads_the_dashboard(db):
    call_id = await reviewed_call_create()
    earlier = await earlier_calls_create()
    try:
        async with live_server() as server, chromium() as browser:
            page = await browser.new_page(viewport=SCREEN)
            await page.goto(server.url(JOES_HOST, "/admin/login/"))
            await page.get_by_label("Username").fill(SUPPORT)
            await page.get_by_label("Password").fill(PASSWORD)
            await page.get_by_role("button", name="Log in").click()

            await page.goto(server.url(JOES_HOST, f"/admin/voice/call/{call_id}/change/"))
            tool_row = page.locator("#nexus-timeline tr.nexus-tool")
            await tool_row.wait_for()
            tool_text = " ".join((await tool_row.inner_text()).split())
            moments = [
                " ".join(text.split())
                for text in await page.locator("#nexus-timeline tbody tr").all_inner_texts()
            ]
            await page.wait_for_function(
                "() => document.getElementById('nexus-recording').readyState >= 1"
            )
            await tool_row.get_by_role("button").click()  # its time: listen from there
            await page.wait_for_function(
                "() => Math.abs(document.getElementById('nexus-recording').currentTime - 12.46) < 1"
            )
            position = await page.evaluate(
                "() => document.getElementById('nexus-recording').currentTime"
            )
            await page.screenshot(path=artifact("call-review.png"), full_page=True)

            await page.goto(server.url(JOES_HOST, "/admin/voice/call/"))
            list_overflow = await page.evaluate(
                "() => document.documentElement.scrollWidth - window.innerWidth"
            )
            await page.screenshot(path=artifact("call-list.png"))

            await page.goto(server.url(JOES_HOST, "/admin/"))
            shown_today = await page.locator("#nexus-calls-today").inner_text()
            outcomes = await page.locator("#nexus-outcomes").inner_text()
            bars = await page.locator("#nexus-dashboard svg .nexus-day rect").count()
            await page.screenshot(path=artifact("dashboard.png"), full_page=True)
        expected_today = await calls_today_count()
    finally:
        await rows_delete(call_id, earlier)

    assert [moment.split(" ", 2)[:2] for moment in moments] == [
        ["0:00", "Agent"], ["0:03", "Agent"], ["0:04", "Caller"], ["0:12", "Tool"],
        ["0:13", "Agent"],
    ]  # fmt: skip
    assert moments[1].endswith("We are open Tuesday to interrupted")
    assert "Booking book_appointment Succeeded in 150 ms" in tool_text
    assert "name: Jamie Lee" in tool_text and "Booked Jamie Lee for tomorrow at 3 pm." in tool_text
    assert 11.46 < position < 13.46
    assert list_overflow <= 0
    assert int(shown_today) == expected_today >= 1
    assert "Booking made" in outcomes
    assert bars == 30
