"""The agent's tools in live calls: a booking said the way callers say it, through the offline
agent (typed and spoken) and through Gemini; one card per tool event; every attempt on record;
tenant isolation; the supervisor of voice calls; the post-call analysis of what happened."""

import asyncio
import datetime as dt

import numpy as np
import pytest
from channels.db import database_sync_to_async

from bench.speech import silence, speak
from tenants_app.db import tenant_schema
from tools_registry.models import Booking, ToolInvocation
from tools_registry.tests.helpers import next_weekday
from tools_registry.when import spoken_day, spoken_slot
from voice.models import Call
from voice.tests.calls import pcm16_chunks, sidecars, stream_realtime
from voice.tests.conftest import JOES_ORIGIN, NEW_YORK, PIZZA_ORIGIN, at_3pm, call, stored_call
from voice.tests.fake_gemini import (
    API_KEY,
    fake_gemini,
    function_call_reply,
    json_reply,
    text_reply,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]

VOICE = "en-us+f5"  # the espeak-ng voice pocketsphinx's English model understands best


async def say(caller, text: str) -> dict:
    """Type `text`; return the agent's final answer."""
    await caller.send({"type": "text", "text": text})
    await caller.receive_until("transcript", role="caller", text=text)
    return await caller.receive_until("transcript", role="agent", final=True)


@database_sync_to_async
def bookings_of(schema: str, call_id: str) -> list[tuple[str, dt.datetime]]:
    """(customer name, local start) of the call's bookings."""
    with tenant_schema(schema):
        bookings = Booking.objects.filter(call_id=call_id)
        return [(b.customer_name, b.starts_at.astimezone(NEW_YORK)) for b in bookings]


@database_sync_to_async
def invocations_of(schema: str, call_id: str) -> list[tuple[str, str]]:
    with tenant_schema(schema):
        invocations = ToolInvocation.objects.filter(call_id=call_id).order_by("started_at", "pk")
        return list(invocations.values_list("tool_name", "status"))


async def analysis_of(call_id: str) -> dict | None:
    """The call's analysis, once the worker has stored it (None after 30 s)."""

    @database_sync_to_async
    def stored() -> dict | None:
        with tenant_schema("joes"):
            return Call.objects.get(pk=call_id).analysis

    for _ in range(300):
        if result := await stored():
            return result
        await asyncio.sleep(0.1)
    return None


async def test_jamie_lee_books_tomorrow_at_3pm_through_the_offline_agent(
    joes_key, open_day, celery_worker
):
    said, day = open_day
    async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
        call_id = (await caller.receive())["call_id"]
        offer = await say(caller, f"Can I book a haircut {said} at 3pm? My name is Jamie Lee")
        done = await say(caller, "Yes please")
        await caller.send({"type": "end"})
        await caller.receive_until("ended")

    slot = spoken_slot(at_3pm(day))
    assert offer["text"] == f"An appointment on {slot} for Jamie Lee. Shall I go ahead?"
    assert done["text"] == "All done. Anything else I can do for you?"
    assert await bookings_of("joes", call_id) == [("Jamie Lee", at_3pm(day))]
    assert await invocations_of("joes", call_id) == [
        ("book_appointment", "succeeded"),  # the slot checked, to say back
        ("book_appointment", "succeeded"),  # booked, once the caller said yes
    ]
    cards = [m for m in caller.messages if m["type"] == "tool" and m["status"] != "started"]
    assert [(c["title"], c["summary"]) for c in cards] == [
        ("Booking", f"{slot} is free"),
        ("Booking", f"Booked for Jamie Lee: {slot}"),
    ]
    transcript = [m for m in caller.messages if m["type"] == "transcript"]
    assert {m["role"] for m in transcript} == {"caller", "agent"}
    _, entries = await stored_call(joes_key.tenant, call_id)
    assert ("tool", f"book_appointment succeeded: Booked for Jamie Lee: {slot}") in entries
    analysis = await analysis_of(call_id)
    assert (analysis["intent"], analysis["outcome"]) == ("Booking", "Booking made")
    assert analysis["follow_up_needed"] is False
    assert f"Booked for Jamie Lee: {slot}" in analysis["summary"]


async def test_the_offline_agent_asks_for_what_is_missing_and_hears_a_bare_name(
    joes_key, celery_worker
):
    day = next_weekday(4, weeks_ahead=40)  # a Friday
    async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
        call_id = (await caller.receive())["call_id"]
        free = await say(caller, f"Do you have any free times on {day.isoformat()}?")
        name_asked = await say(caller, "Half past two would be great")
        offer = await say(caller, "Jamie Lee")
        await say(caller, "Yes")

    assert free["text"].startswith(f"Free on {spoken_day(day)}: 09:00")
    assert name_asked["text"] == "Can I have your full name, please?"
    slot = dt.datetime.combine(day, dt.time(14, 30), NEW_YORK)
    assert (
        offer["text"] == f"An appointment on {spoken_slot(slot)} for Jamie Lee. Shall I go ahead?"
    )
    assert await bookings_of("joes", call_id) == [("Jamie Lee", slot)]


async def test_a_past_day_is_refused_with_a_reason_the_caller_hears(joes_key, celery_worker):
    async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
        call_id = (await caller.receive())["call_id"]
        answer = await say(caller, "Book me on 2020-01-07 at 10 am, my name is Old Timer")

    assert answer["text"] == ("Sorry, Tuesday 7 January is in the past; which day would you like?")
    assert await invocations_of("joes", call_id) == [("book_appointment", "failed")]
    assert await bookings_of("joes", call_id) == []


async def test_a_spoken_booking_through_offline_speech_to_text(
    joes_key, open_day, settings, celery_worker
):
    """espeak-ng speech, heard by pocketsphinx with Joe's vocabulary, answered by the offline
    agent (no sidecar: the call is in text mode, and speech is still transcribed)."""
    settings.PERSONAPLEX_URLS = []
    settings.NEXUS_VOICE_FALLBACK = "text"
    said, day = open_day
    turns = [f"can i book a haircut {said.removeprefix('on ')} at three pm", "jamie lee", "yes"]
    async with call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller:
        call_id = (await caller.receive())["call_id"]
        await caller.receive_until("mode")
        for words in turns:
            speech = np.concatenate([silence(0.3), speak(words, voice=VOICE), silence(1.0)])
            await stream_realtime(caller, pcm16_chunks(speech, 24_000), 0)
            await caller.receive_until("transcript", role="caller", timeout=60)
            await caller.receive_until("transcript", role="agent", final=True, timeout=60)

    cards = [m for m in caller.messages if m["type"] == "tool" and m["status"] == "succeeded"]
    assert [card["summary"] for card in cards] == [
        f"{spoken_slot(at_3pm(day))} is free",
        f"Booked for Jamie Lee: {spoken_slot(at_3pm(day))}",
    ]
    assert await bookings_of("joes", call_id) == [("Jamie Lee", at_3pm(day))]


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

    assert answer["text"] == (
        "Sorry, Booking is not answering right now; please try again in a moment."
    )
    assert await invocations_of("joes", call_id) == [("book_appointment", "timed_out")]
    assert await bookings_of("joes", call_id) == []


def gemini_settings(settings, gemini) -> None:
    settings.NEXUS_AGENT = "gemini"
    settings.GEMINI_API_KEY, settings.GEMINI_BASE_URL = API_KEY, gemini.base_url
    settings.GEMINI_RETRIES = 0


async def test_jamie_lee_books_tomorrow_at_3pm_through_gemini(
    joes_key, open_day, settings, celery_worker
):
    said, day = open_day
    spoken = {"date": said.removeprefix("on "), "time": "3pm", "name": "Jamie Lee"}
    analysis = {
        "summary": "Jamie Lee booked a haircut.",
        "intent": "booking",
        "sentiment": "positive",
        "outcome": "booked",
        "follow_up_needed": False,
    }
    async with fake_gemini() as gemini:
        gemini_settings(settings, gemini)
        gemini.script(
            function_call_reply("book_appointment", spoken),
            text_reply("That's ", f"{spoken_slot(at_3pm(day))}, Jamie. Shall I book it?"),
            function_call_reply("book_appointment", {**spoken, "confirmed": True}),
            text_reply("You're booked, Jamie."),
            json_reply(analysis),
        )
        async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
            call_id = (await caller.receive())["call_id"]
            offer = await say(caller, f"Can I book a haircut {said} at 3pm? My name is Jamie Lee")
            done = await say(caller, "Yes please")
        stored_analysis = await analysis_of(call_id)

    assert offer["text"] == f"That's {spoken_slot(at_3pm(day))}, Jamie. Shall I book it?"
    assert done["text"] == "You're booked, Jamie."
    assert await bookings_of("joes", call_id) == [("Jamie Lee", at_3pm(day))]
    first = gemini.requests[0]
    today = dt.datetime.now(NEW_YORK)
    assert "You are Sam, the voice agent of Joe's Barbershop." in first.system_text
    assert f"It is {spoken_day(today.date())} {today.year}, " in first.system_text
    assert all(name in str(first.body["tools"]) for name in ("book_appointment", "walk_in_wait"))
    preview = str(gemini.requests[1].body)  # the first call's result went back to the model
    assert f"An appointment on {spoken_slot(at_3pm(day))} for Jamie Lee" in preview
    assert "confirm_with_caller" in preview
    analysis_request = gemini.requests[4].texts()[0]
    assert f"Booked for Jamie Lee: {spoken_slot(at_3pm(day))}" in analysis_request
    assert stored_analysis == {**analysis, "analyzer": "gemini:gemini-2.5-flash"}


async def test_gemini_is_told_why_a_tool_call_was_rejected_and_staff_see_it(joes_key, settings):
    async with fake_gemini() as gemini:
        gemini_settings(settings, gemini)
        gemini.script(
            function_call_reply("cancel_everything", {}),
            function_call_reply("book_appointment", {"date": "Tuesday"}),
            text_reply("What time would you like, and what is your name?"),
        )
        async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
            call_id = (await caller.receive())["call_id"]
            answer = await say(caller, "Book me for Tuesday")

    assert answer["text"] == "What time would you like, and what is your name?"
    assert [m for m in caller.messages if m["type"] == "tool"] == []  # nothing ran: no card
    assert await invocations_of("joes", call_id) == [
        ("cancel_everything", "rejected"),
        ("book_appointment", "rejected"),
    ]
    told = str(gemini.requests[2].body)
    assert "no tool 'cancel_everything' for this agent" in told
    assert "'time' is a required property" in told and "'name' is a required property" in told


async def test_the_supervisor_runs_tools_in_a_voice_call(joes_key, settings):
    """Voice: the caller's words (speech-to-text) reach the text agent, which checks the calendar;
    the result reaches the caller as a card while the voice model keeps talking."""
    day = next_weekday(1, weeks_ahead=42)
    async with fake_gemini() as gemini, sidecars():
        settings.NEXUS_SPEECH_TO_TEXT = "gemini"
        settings.GEMINI_API_KEY, settings.GEMINI_BASE_URL = API_KEY, gemini.base_url
        words = f"do you have any free times on {day.isoformat()}"
        gemini.always(json_reply({"transcript": words, "no_speech": False}))
        async with call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller:
            call_id = (await caller.receive())["call_id"]
            await caller.receive_until("ready")
            speech = np.concatenate([silence(0.3), speak("hello there"), silence(1.0)])
            await stream_realtime(caller, pcm16_chunks(speech, 24_000), 0.02)
            card = await caller.receive_until("tool", status="succeeded", timeout=15)

    assert (card["name"], card["title"]) == ("check_availability", "Free times")
    assert card["summary"].startswith(f"Free on {spoken_day(day)}: 09:00")
    _, entries = await stored_call(joes_key.tenant, call_id)
    assert ("caller", words) in entries


async def test_post_call_analysis_is_stored_on_the_call(joes_key, celery_worker):
    async with call(f"key={joes_key.key}&mode=text", origin=JOES_ORIGIN) as caller:
        call_id = (await caller.receive())["call_id"]
        await say(caller, "How much is a haircut?")
        await caller.send({"type": "end"})
        await caller.receive_until("ended")

    result = await analysis_of(call_id)
    assert result["analyzer"] == "offline (no AI model)"
    assert (result["intent"], result["outcome"]) == ("Prices", "answered")
    assert "haircut" in result["summary"].lower()
