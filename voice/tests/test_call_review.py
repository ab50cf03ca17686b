"""The call's page for support staff (its timeline, analysis and metrics), and calls found by
the words said and by their filters, in Joe's schema and never in Pizza's.

Each test starts from no call in either tenant (deleted inside the test's transaction: call
tests elsewhere commit theirs), then makes the rows it reads.
"""

import datetime as dt
import re
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from bench.processes import free_port
from tenants_app.db import tenant_schema
from tenants_app.tests.factories import PASSWORD, user_create
from tools_registry.models import InvocationStatus, ToolInvocation
from voice.call.mode import mode_switch_words
from voice.call.protocol import ModeReason
from voice.models import Call, CallMode, CallStatus, EndReason, Persona, TranscriptEntry
from voice.review import call_review_build
from voice.selectors import call_search
from voice.tests.browser import call_ended_wait, tenant_get
from voice.tests.conftest import JOES_ORIGIN, call, stored_call

JOES, PIZZA = "joes.localhost", "pizza.localhost"
STARTED = dt.datetime(2025, 1, 15, 19, 30, tzinfo=dt.UTC)  # 14:30 in New York (EST)
GREETING = "Thanks for calling Joe's Barbershop, this is Sam."
CUT_OFF = "We are open Tuesday to"
ASKED = "Can I get a haircut booked for tomorrow at 3 pm?"
ANSWER = "You're booked for tomorrow at 3 pm, Jamie."


def login(client, host: str, username: str) -> None:
    client.post("/admin/login/", {"username": username, "password": PASSWORD}, HTTP_HOST=host)


@pytest.fixture
def no_calls(joes, pizza, in_schema):
    for tenant in (joes, pizza):
        with in_schema(tenant):
            Call.objects.all().delete()


def call_make(*, started: dt.datetime, said: list[tuple[str, str]] = (), **fields) -> Call:
    """A call in the current schema that started at `started`, with (role, text) entries a second
    apart."""
    call = Call.objects.create(persona=Persona.objects.get())
    Call.objects.filter(pk=call.pk).update(started_at=started, **fields)
    for n, (role, text) in enumerate(said):
        TranscriptEntry.objects.create(
            call=call, sequence=n, role=role, text=text, start_ms=n * 1000, end_ms=n * 1000 + 900
        )
    call.refresh_from_db()
    return call


@pytest.fixture
def reviewed_call(no_calls, joes, in_schema) -> Call:
    """A finished call of Joe's: a greeting, an agent turn the caller cut off (final after the
    caller's words, so numbered after them), a move to text, a booking, and the answer."""
    with in_schema(joes):
        call = call_make(
            started=STARTED,
            status=CallStatus.ENDED,
            ended_at=STARTED + dt.timedelta(minutes=2, seconds=5),
            end_reason=EndReason.CALLER_HANGUP,
            analysis={
                "summary": "Booked a haircut for tomorrow.",
                "intent": "booking",
                "sentiment": "positive",
                "outcome": "Booking made",
                "follow_up_needed": False,
                "analyzer": "offline (no AI model)",
            },
            metrics={
                "duration_ms": 125_000,
                "entries": 6,
                "interruptions": 1,
                "caller_frames_dropped": 2,
                "transcript_entries_dropped": 0,
                "uplink_latency": {"count": 812, "p50_ms": 3.4, "p99_ms": 11.5},
                "downlink_latency": {"count": 640, "p50_ms": 6.1, "p99_ms": 19.2},
            },
        )
        moved = mode_switch_words(CallMode.TEXT, ModeReason.SIDECAR_UNAVAILABLE, None)
        for sequence, role, text, start_ms, interrupted in [
            (0, "agent", GREETING, 0, False),
            (1, "caller", ASKED, 4_200, False),
            (2, "agent", CUT_OFF, 3_100, True),
            (3, "system", moved, 9_000, False),
            (4, "tool", "book_appointment succeeded: Booked Jamie Lee.", 12_600, False),
            (5, "agent", ANSWER, 13_000, False),
        ]:
            TranscriptEntry.objects.create(
                call=call, sequence=sequence, role=role, text=text, start_ms=start_ms,
                end_ms=start_ms + 500, interrupted=interrupted,
            )  # fmt: skip
        invocation = ToolInvocation.objects.create(
            call=call,
            tool_name="book_appointment",
            arguments={"day": "tomorrow", "time": "15:00", "name": "Jamie Lee"},
            result={"data": {"service": "Haircut", "slots": ["15:00", "15:30"]},
                    "summary": "Booked Jamie Lee for tomorrow at 3 pm."},
            status=InvocationStatus.SUCCEEDED,
            finished_at=STARTED + dt.timedelta(seconds=12.6),
            duration_ms=140,
        )  # fmt: skip
        ToolInvocation.objects.filter(pk=invocation.pk).update(
            started_at=STARTED + dt.timedelta(seconds=12.46)
        )
        return call


def timeline_rows(page: str) -> list[tuple[str, str, str]]:
    """The timeline as (at, who, what), its words with the markup taken out."""
    rows = re.findall(r'<tr class="nexus-moment[^"]*">(.*?)</tr>', page, re.S)
    cells = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S) for row in rows]
    return [tuple(" ".join(unescape(strip_tags(cell)).split()) for cell in row) for row in cells]


def section(page: str, element_id: str) -> str:
    return page.split(f'id="{element_id}"', 1)[1].split("</fieldset>", 1)[0].split("</table>")[0]


def test_the_call_page_shows_the_conversation_in_time_order_with_its_tool_call(
    client, joes, in_schema, reviewed_call
):
    with in_schema(joes):
        user_create("joes-boss", superuser=True)
    login(client, JOES, "joes-boss")

    page = client.get(f"/admin/voice/call/{reviewed_call.pk}/change/", HTTP_HOST=JOES)

    assert page.status_code == 200
    rows = timeline_rows(page.content.decode())
    assert [(at, who) for at, who, _ in rows] == [
        ("0:00", "Agent"), ("0:03", "Agent"), ("0:04", "Caller"), ("0:09", "System"),
        ("0:12", "Tool"), ("0:13", "Agent"),
    ]  # fmt: skip
    assert rows[0][2] == GREETING
    assert rows[1][2] == f"{CUT_OFF} interrupted"
    assert rows[2][2] == ASKED  # not interrupted
    assert rows[3][2] == "Moved to text: the persona's voice engine could not be reached"
    tool = rows[4][2]
    assert tool.startswith("Booking book_appointment Succeeded in 140 ms")
    arguments, result = tool.split(" Arguments ", 1)[1].split(" Result ")
    for pair in ("day: tomorrow", "time: 15:00", "name: Jamie Lee"):  # in jsonb's order
        assert pair in arguments
    assert result.startswith("Booked Jamie Lee for tomorrow at 3 pm. ")
    assert "service: Haircut" in result and "slots: 15:00, 15:30" in result
    assert rows[5][2] == ANSWER


def test_the_call_page_reads_as_words_and_figures_in_the_tenants_time(
    client, joes, in_schema, reviewed_call
):
    with in_schema(joes):
        user_create("joes-boss", superuser=True)
    login(client, JOES, "joes-boss")

    page = client.get(f"/admin/voice/call/{reviewed_call.pk}/change/", HTTP_HOST=JOES)
    html = page.content.decode()

    assert "2025-01-15 14:30:00 EST" in html and "2025-01-15 14:32:05 EST" in html
    assert "19:30" not in html  # UTC is not shown
    assert re.search(r"Handed over to a person:</label>\s*<div class=\"readonly\">No</div>", html)
    assert "icon-no.svg" not in html
    assert "<th>Summary</th><td>Booked a haircut for tomorrow.</td>" in html
    assert "<th>Outcome</th><td>Booking made</td>" in html
    assert "<th>Follow-up needed</th><td>no</td>" in html
    metrics = {
        label: value for label, value in re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td></tr>", html)
    }
    assert metrics["Duration"] == "2:05 (m:ss)"
    assert metrics["Barge-ins (the caller spoke over the agent)"] == "1"
    assert metrics["Caller audio frames dropped"] == "2"
    assert (
        metrics["Bridge latency, caller to voice engine"] == "p50 3.4 ms, p99 11.5 ms (812 samples)"
    )
    assert (
        metrics["Bridge latency, voice engine to caller"] == "p50 6.1 ms, p99 19.2 ms (640 samples)"
    )
    for element_id in ("nexus-analysis", "nexus-timeline", "nexus-metrics"):
        words = strip_tags(section(html, element_id))
        assert "{" not in words and "}" not in words and '"' not in words, element_id
    # The one-line tool entry is not repeated beside the full tool call.
    assert "book_appointment succeeded:" not in html
    # The recording's player appears only with a recording.
    assert "<audio" not in html and 'class="nexus-seek"' not in html


def test_a_recorded_call_plays_from_each_time_of_its_timeline(
    client, joes, in_schema, reviewed_call
):
    with in_schema(joes):
        Call.objects.filter(pk=reviewed_call.pk).update(recording="recordings/joes/call.ogg")
        user_create("joes-boss", superuser=True)
    login(client, JOES, "joes-boss")

    page = client.get(f"/admin/voice/call/{reviewed_call.pk}/change/", HTTP_HOST=JOES)

    html = page.content.decode()
    src = reverse("voice:call_recording", args=[reviewed_call.pk])
    assert f'<audio id="nexus-recording" controls preload="metadata" src="{src}">' in html
    seeks = re.findall(r'data-seek="([\d.]+)"[^>]*>(\d+:\d\d)</button>', html)
    assert seeks == [
        ("0.000", "0:00"), ("3.100", "0:03"), ("4.200", "0:04"), ("9.000", "0:09"),
        ("12.460", "0:12"), ("13.000", "0:13"),
    ]  # fmt: skip
    assert "nexus/admin-call-review.js" in html


def test_a_support_user_opens_the_call_page_read_only_and_pizza_cannot(
    client, joes, pizza, in_schema, reviewed_call
):
    with in_schema(joes):
        user_create("joes-helpdesk", support=True)
    with in_schema(pizza):
        user_create("pizza-boss", superuser=True)
    url = f"/admin/voice/call/{reviewed_call.pk}/change/"
    login(client, JOES, "joes-helpdesk")

    page = client.get(url, HTTP_HOST=JOES)
    posted = client.post(url, {"needs_human": "on"}, HTTP_HOST=JOES)
    login(client, PIZZA, "pizza-boss")
    from_pizza = client.get(url, HTTP_HOST=PIZZA, follow=True)

    html = page.content.decode()
    assert page.status_code == 200
    assert ASKED in html and "book_appointment" in html and "name: Jamie Lee" in html
    assert 'name="_save"' not in html
    assert posted.status_code == 403
    assert ASKED not in from_pizza.content.decode()
    assert "doesn\u2019t exist" in from_pizza.content.decode()  # Django's "doesn't exist"


def test_a_mode_switch_is_said_in_words():
    assert (
        mode_switch_words(CallMode.VOICE, ModeReason.SIDECAR_BUSY, "cascade")
        == "Moved to voice (Cascade): the persona's voice engine was busy"
    )
    assert (
        mode_switch_words(CallMode.VOICE, ModeReason.RECOVERED, "nvidia_personaplex")
        == "Moved to voice (NVIDIA PersonaPlex): the persona's voice engine is back"
    )


@pytest.fixture
def searchable(no_calls, joes, pizza, in_schema) -> dict[str, Call]:
    """Two calls of Joe's (a booking, a price question) and one of Pizza's that also books."""
    now = timezone.now()
    with in_schema(joes):
        booking = call_make(
            started=now - dt.timedelta(minutes=5),
            said=[("agent", GREETING), ("caller", "I'd like a booking for Saturday morning")],
            analysis={"outcome": "Booking made"},
            end_reason=EndReason.CALLER_HANGUP,
        )
        prices = call_make(
            started=now - dt.timedelta(days=3),
            said=[("caller", "How much is a beard trim?")],
            analysis={"outcome": "answered"},
            needs_human=True,
            end_reason=EndReason.TIMEOUT,
        )
    with in_schema(pizza):
        pizza_call = call_make(
            started=now - dt.timedelta(minutes=5),
            said=[("caller", "I booked a large pepperoni pizza for delivery")],
        )
    return {"booking": booking, "prices": prices, "pizza": pizza_call}


@pytest.fixture
def joes_boss(client, joes, in_schema):
    with in_schema(joes):
        user_create("joes-boss", superuser=True)
    login(client, JOES, "joes-boss")
    return client


def listed(client, query: str | dict = "") -> set:
    """The calls Joe's change list shows for `query` (a query string, or its parameters)."""
    if isinstance(query, dict):
        response = client.get("/admin/voice/call/", query, HTTP_HOST=JOES)
    else:
        response = client.get(f"/admin/voice/call/{query}", HTTP_HOST=JOES)
    assert response.status_code == 200
    return {call.pk for call in response.context["cl"].result_list}


def test_search_finds_the_calls_by_a_word_said_with_its_stem(joes_boss, searchable):
    booking, prices = searchable["booking"].pk, searchable["prices"].pk

    assert listed(joes_boss, {"q": "booked"}) == {booking}  # "booked" finds "booking"
    assert listed(joes_boss, {"q": "trims"}) == {prices}
    assert listed(joes_boss, {"q": '"beard trim"'}) == {prices}
    assert listed(joes_boss, {"q": '"trim beard"'}) == set()  # a phrase, in its order
    assert listed(joes_boss, {"q": "booking -saturday"}) == set()
    assert listed(joes_boss, {"q": "pepperoni"}) == set()  # Pizza's words, in Pizza's schema
    assert searchable["pizza"].pk not in listed(joes_boss, {"q": "booked"})
    assert listed(joes_boss) == {booking, prices}


def test_search_is_served_by_the_transcripts_full_text_index(joes, in_schema, searchable):
    with in_schema(joes):
        query = call_search(calls=Call.objects.all(), words="booked")
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # as on a table too big to scan
            sql, params = query.query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("SET LOCAL enable_seqscan = on")

    assert "transcript_text_search" in plan, plan


def test_filters_by_outcome_end_reason_person_persona_and_the_tenants_day(
    joes, joes_boss, searchable
):
    booking, prices = searchable["booking"].pk, searchable["prices"].pk
    persona = searchable["booking"].persona_id
    page = joes_boss.get("/admin/voice/call/", HTTP_HOST=JOES).content.decode()
    today = re.search(r'<a href="(\?started_at__gte=[^"]+)"[^>]*>Today</a>', page).group(1)

    assert listed(joes_boss, "?outcome=Booking+made") == {booking}
    assert listed(joes_boss, "?outcome=answered") == {prices}
    assert listed(joes_boss, "?end_reason=timeout") == {prices}
    assert listed(joes_boss, "?handed_over=yes") == {prices}
    assert listed(joes_boss, "?handed_over=no") == {booking}
    assert listed(joes_boss, f"?persona__id__exact={persona}") == {booking, prices}
    assert listed(joes_boss, today.replace("&amp;", "&")) == {booking}
    local_today = timezone.localtime(timezone.now(), ZoneInfo(joes.timezone)).date().isoformat()
    assert local_today in today  # the tenant's day, not the server's
    assert ">Booking made</a>" in page and ">answered</a>" in page  # the outcomes offered


def test_the_change_list_shows_short_columns_in_the_tenants_time(joes, joes_boss, searchable):
    page = joes_boss.get("/admin/voice/call/", HTTP_HOST=JOES).content.decode()
    headers = [
        " ".join(strip_tags(header).split())
        for header in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', page, re.S)
    ]
    started = timezone.localtime(searchable["booking"].started_at, ZoneInfo(joes.timezone))

    assert [h for h in headers if h] == [
        "Started", "Persona", "Mode", "Duration", "Outcome", "Handed over", "Entries"
    ]  # fmt: skip
    assert f">{started:%Y-%m-%d %H:%M %Z}</a>" in page


@database_sync_to_async
def review_of(tenant, call_id: str):
    with tenant_schema(tenant.schema_name):
        return call_review_build(call=Call.objects.get(pk=call_id))


@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_a_live_calls_move_to_text_is_stored_and_reviewed_in_its_place(joes_key, settings):
    settings.NEXUS_VOICE_FALLBACK = "text"
    unreachable = {"PERSONAPLEX_URLS": [f"ws://127.0.0.1:{free_port()}"]}
    with override_settings(**unreachable, PERSONAPLEX_RETRY_INITIAL=5):
        async with call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller:
            call_id = (await caller.receive())["call_id"]
            await caller.receive_until("mode", mode="text")
            await caller.send({"type": "text", "text": "How much is a beard trim?"})
            await caller.receive_until("transcript", role="agent", final=True)
            await caller.send({"type": "end"})
            await caller.receive_until("ended")
    await call_ended_wait("joes", call_id)  # closed once its transcript is stored

    review = await review_of(joes_key.tenant, call_id)
    said = [(moment.role, moment.text) for moment in review.timeline]
    moved = ("system", "Moved to text: the persona's voice engine could not be reached")
    assert moved in said
    assert said.index(moved) < said.index(("caller", "How much is a beard trim?"))
    assert await stored_call(await tenant_get("pizza"), call_id) == (None, [])
