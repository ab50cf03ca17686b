"""The agent's tools in live calls: bookings through the offline agent and through Gemini,
tool cards, tenant isolation, the supervisor of voice calls, and the post-call analysis."""

import asyncio

import numpy as np
import pytest
from channels.db import database_sync_to_async

from bench.speech import silence, speak
from tenants_app.db import tenant_schema
from tools_registry.models import Booking, ToolInvocation
from tools_registry.tests.helpers import next_weekday
from voice.models import Call
from voice.tests.calls import pcm16_chunks, sidecars, stream_realtime
from voice.tests.conftest import JOES_ORIGIN, PIZZA_ORIGIN, call, stored_call
from voice.tests.fake_gemini import (
    API_KEY,
    fake_gemini,
    function_call_reply,
    json_reply,
    text_reply,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]


async def say(caller, text: str) -> dict:
    """Type `text`; return the agent's final answer."""
    await caller.send({"type": "text", "text": text})
    await caller.receive_until("transcript", role="caller", text=text)
    return await caller.receive_until("transcript", role="agent", final=True)


@database_sync_to_async
def bookings_of(schema: str, call_id: str) -> list[tuple[str, str]]:
    with tenant_schema(schema):
        return list(Booking.objects.filter(call_id=call_id).values_list("customer_name", "service"))


@database_sync_to_async
def invocations_of(schema: str, call_id: str) -> list[tuple[str, str]]:
    with tenant_schema(schema):
        return list(
            ToolInvocation.objects.filter(call_id=call_id).values_list("tool_name", "status")
        )


async def test_joes_caller_books_a_haircut_through_the_offline_agent(
    joes_key,
    pizza_key,
    celery_worker,
):
    day = next_weekday(1, weeks_ahead=40)  # a Tuesday: Joe's is open
    async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
        call_id = (await caller.receive())["call_id"]
        free = await say(caller, f"Do you have any free times on {day.isoformat()}?")
        booked = await say(caller, "10 am please, my name is Ann")
        cards = []
        await caller.send({"type": "ping"})
        while (message := await caller.receive())["type"] != "pong":
            cards.append(message)

    assert "Free on Tuesday" in free["text"] and "10:00" in free["text"]
    assert booked["text"] == f"Booked for Ann: {day:%A %d %B} at 10:00."
    assert await bookings_of("joes", call_id) == [("Ann", "")]
    assert await bookings_of("pizza", call_id) == []
    assert await invocations_of("joes", call_id) == [
        ("check_availability", "succeeded"),
        ("book_appointment", "succeeded"),
    ]
    _, entries = await stored_call(joes_key.tenant, call_id)
    assert (
        "tool",
        f"book_appointment succeeded: Booked for Ann: {day:%A %d %B} at 10:00",
    ) in entries


async def test_tool_cards_reach_the_caller(joes_key, celery_worker):
    day = next_weekday(2, weeks_ahead=40)
    async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
        await caller.send(
            {
                "type": "text",
                "text": f"Can I book a haircut on {day.isoformat()} at 11 am? My name is Cy",
            }
        )
        started = await caller.receive_until("tool", status="started")
        ended = await caller.receive_until("tool", id=started["id"], status="succeeded")

    assert started["name"] == "book_appointment"
    assert ended["summary"] == f"Booked for Cy: {day:%A %d %B} at 11:00"


async def test_a_tool_joe_has_cannot_be_run_in_a_pizza_call(pizza_key):
    day = next_weekday(1, weeks_ahead=41)
    async with call(f"key={pizza_key.key}&mode=text", origin=PIZZA_ORIGIN) as caller:
        call_id = (await caller.receive())["call_id"]
        answer = await say(
            caller, f"Can I book an appointment on {day.isoformat()} at 10 am? My name is Dee"
        )

    assert "Booked" not in answer["text"]
    assert await invocations_of("pizza", call_id) == []
    assert await bookings_of("pizza", call_id) == []


async def test_the_worker_stopped_mid_call_gives_a_timeout_the_caller_hears(joes_key, monkeypatch):
    from tools_registry.builtin.calendar import BookAppointment

    monkeypatch.setattr(BookAppointment, "timeout", 1.0)
    day = next_weekday(3, weeks_ahead=40)
    async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
        call_id = (await caller.receive())["call_id"]
        answer = await say(caller, f"Book me on {day.isoformat()} at 2 pm, my name is Eve")

    assert answer["text"] == "Sorry, I couldn't do that: book_appointment did not answer in time."
    assert await invocations_of("joes", call_id) == [("book_appointment", "timed_out")]
    assert await bookings_of("joes", call_id) == []


async def test_joes_caller_books_through_gemini(joes_key, settings, celery_worker):
    day = next_weekday(4, weeks_ahead=40)
    analysis = {
        "summary": "Flo booked a haircut.",
        "intent": "booking",
        "sentiment": "positive",
        "outcome": "booked",
        "follow_up_needed": False,
    }
    async with fake_gemini() as gemini:
        settings.NEXUS_AGENT = "gemini"
        settings.GEMINI_API_KEY, settings.GEMINI_BASE_URL = API_KEY, gemini.base_url
        settings.GEMINI_RETRIES = 0
        gemini.script(
            function_call_reply(
                "book_appointment", {"date": day.isoformat(), "time": "15:00", "name": "Flo"}
            ),
            text_reply("You're booked, Flo: ", f"{day:%A} at 3 pm."),
            json_reply(analysis),
        )
        async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
            call_id = (await caller.receive())["call_id"]
            answer = await say(caller, "Please book me for Friday at 3 pm, I'm Flo")
        stored_analysis = await analysis_of(call_id)

    assert answer["text"] == f"You're booked, Flo: {day:%A} at 3 pm."
    assert await bookings_of("joes", call_id) == [("Flo", "")]
    declared = str(gemini.requests[0].body["tools"])
    assert all(name in declared for name in ("book_appointment", "walk_in_wait"))
    follow_up = str(gemini.requests[1].body)
    assert "Booked for Flo" in follow_up  # the tool's result went back to the model
    assert stored_analysis == {**analysis, "analyzer": "gemini:gemini-2.5-flash"}


async def test_the_supervisor_runs_tools_in_a_voice_call(joes_key, settings):
    """Voice: the caller's words (speech-to-text) reach the text agent, which checks the calendar;
    the result reaches the caller as a card while the voice model keeps talking."""
    day = next_weekday(1, weeks_ahead=42)
    async with fake_gemini() as gemini, sidecars():
        settings.NEXUS_SPEECH_TO_TEXT = "gemini"
        settings.GEMINI_API_KEY, settings.GEMINI_BASE_URL = API_KEY, gemini.base_url
        gemini.always(text_reply(f"do you have any free times on {day.isoformat()}"))
        async with call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller:
            call_id = (await caller.receive())["call_id"]
            await caller.receive_until("ready")
            speech = np.concatenate([silence(0.3), speak("hello there"), silence(1.0)])
            await stream_realtime(caller, pcm16_chunks(speech, 24_000), 0.02)
            card = await caller.receive_until("tool", status="succeeded", timeout=15)

    assert card["name"] == "check_availability"
    assert card["summary"].startswith(f"Free on {day:%A}")
    _, entries = await stored_call(joes_key.tenant, call_id)
    assert ("caller", f"do you have any free times on {day.isoformat()}") in entries


async def analysis_of(call_id: str) -> dict | None:
    """The call's analysis, once the worker has stored it (None after 10 s)."""

    @database_sync_to_async
    def stored() -> dict | None:
        with tenant_schema("joes"):
            return Call.objects.get(pk=call_id).analysis

    for _ in range(100):
        if result := await stored():
            return result
        await asyncio.sleep(0.1)
    return None


async def test_post_call_analysis_is_stored_on_the_call(joes_key, celery_worker):
    async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
        call_id = (await caller.receive())["call_id"]
        await say(caller, "How much is a haircut?")
        await caller.send({"type": "end"})
        await caller.receive_until("ended")

    result = await analysis_of(call_id)
    assert result["analyzer"] == "offline (no AI model)"
    assert result["sentiment"] in {"positive", "neutral", "negative"}
    assert "haircut" in result["summary"].lower()
