"""The caller's widget in real Chromium, against a live Nexus and the PersonaPlex emulator.

The microphone is Chromium's fake capture device playing an espeak-ng WAV; the server is daphne
in a forked process on the test database (`voice/tests/browser.py`). Assertions are about what
a caller gets: the agent's audio reaching the playback worklet, the caller's words in the
captions and in the right tenant's stored transcript, playback flushed on barge-in, the text
path when the microphone is denied, and clear messages when a call is refused. Screenshots and
the barge-in figures are kept under test-artifacts/.
"""

import json

import pytest

from tools_registry.when import spoken_slot
from voice.sidecar.emulator import EmulatorConfig
from voice.tests.browser import (
    FlakyNetwork,
    LiveServer,
    admin_create,
    artifact,
    call_ended_wait,
    chromium,
    demo_key_create,
    fake_mic_wav,
    live_server,
    persona_pk,
    tenant_get,
    transcript_has,
    voice_server,
    web_site,
)
from voice.tests.conftest import at_3pm, stored_call

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(90)]

FAST_LOAD = EmulatorConfig(load_base_seconds=0.05, load_per_word_seconds=0.0)
# The echo comes 2 s late: the caller's second phrase starts while the echo of the first (the
# agent's voice) is playing, so the server hears a barge-in and sends `interrupt`.
LATE_ECHO = EmulatorConfig(load_base_seconds=0.05, load_per_word_seconds=0.0, echo_delay_steps=25)
JOES_HOST = "joes.localhost"
WIDGET = "[data-nexus-widget]"
FLUSH_BUDGET_MS = 150


@pytest.fixture(scope="module")
def mic_wav(tmp_path_factory):
    return fake_mic_wav(tmp_path_factory.mktemp("mic"))


async def debug(page) -> dict:
    return await page.evaluate("() => JSON.parse(JSON.stringify(window.Nexus.debug))")


async def wait_debug(page, condition: str, timeout: float = 15) -> dict:
    """Wait until `condition` (JS, over `d` = Nexus.debug) holds; return Nexus.debug."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    try:
        script = f"() => {{ const d = window.Nexus && Nexus.debug; return !!d && ({condition}); }}"
        await page.wait_for_function(script, timeout=timeout * 1000)
    except PlaywrightTimeout:
        pytest.fail(f"after {timeout} s, not {condition}: Nexus.debug = {await debug(page)}")
    return await debug(page)


async def open_demo(browser, server: LiveServer, **page_options):
    """Joe's demo page, with the widget opened (which starts the call)."""
    page = await browser.new_page(**page_options)
    await page.goto(server.url(JOES_HOST, "/demo/"))
    await page.get_by_role("button", name="Talk to us").click()
    return page


async def type_message(page, text: str) -> None:
    box = page.locator(WIDGET).get_by_label("Type a message")
    await box.fill(text)
    await box.press("Enter")


async def test_a_site_the_key_does_not_allow_is_refused_and_an_allowed_one_calls(db, mic_wav):
    async with voice_server(FAST_LOAD) as server:
        key = await demo_key_create("joes", [server.origin(JOES_HOST)])
        widget_js = server.url(JOES_HOST, "/static/nexus/widget.js")
        html = (
            "<!doctype html><title>Another shop</title><h1>Another shop</h1>"
            f'<script src="{widget_js}" data-key="{key}" async></script>'
        )
        async with web_site(html) as foreign_origin, chromium(mic_wav=mic_wav) as browser:
            foreign = await browser.new_page()
            await foreign.goto(foreign_origin + "/")
            await foreign.get_by_role("button", name="Talk to us").click()
            refused = await wait_debug(foreign, "d.closeCode === 4403")
            message = foreign.locator(WIDGET).get_by_text(
                "This site is not allowed to use this assistant."
            )
            await message.wait_for()
            await foreign.screenshot(path=artifact("widget-refused.png"))

            allowed = await open_demo(browser, server)
            placed = await wait_debug(allowed, "d.callId && d.messages.session === 1")
            await allowed.get_by_role("button", name="Hang up").click()
            row = await call_ended_wait("joes", placed["callId"])

    assert refused["callId"] is None and refused["messages"] == {}
    assert placed["mode"] == "voice"
    assert row.widget_key.key == key
    assert row.end_reason == "caller_hangup"


@pytest.mark.timeout(180)
async def test_voice_call_plays_the_agent_and_captions_the_caller_in_the_right_tenant(db, mic_wav):
    async with voice_server(FAST_LOAD) as server:
        await demo_key_create("joes", [server.origin(JOES_HOST)])
        async with chromium(mic_wav=mic_wav) as browser:
            page = await open_demo(browser, server)
            await wait_debug(page, "d.messages.ready === 1", timeout=10)
            # The caller's words, as offline speech-to-text heard them: its key word is enough
            # (on a busy machine, transcription may take long; an exact match is not needed).
            caption = page.locator(f"{WIDGET} .msg.caller").filter(has_text="located")
            await caption.wait_for(timeout=90_000)
            heard = await wait_debug(page, "d.playback.played > 24000 && d.playback.speaking")
            await page.screenshot(path=artifact("widget-mid-call.png"))
            await page.get_by_role("button", name="Hang up").click()
            await page.locator(WIDGET).get_by_text("You ended the call.").wait_for()
            row = await call_ended_wait("joes", heard["callId"])

    assert heard["sampleRate"] >= 8000
    assert heard["sentFrames"] > 50  # over 2 s of the caller's voice went up, in 40 ms frames:
    assert heard["sentBytes"] == heard["sentFrames"] * 2 * round(heard["sampleRate"] * 0.04)
    playback = heard["playback"]  # the emulator echoed the caller's voice, and it played
    assert playback["received"] > 24_000 and playback["played"] > 24_000
    assert heard["agentSpoke"] >= 1
    assert row.end_reason == "caller_hangup"
    _, joes_entries = await stored_call(await tenant_get("joes"), heard["callId"])
    assert any(role == "caller" and "located" in text for role, text in joes_entries)
    pizza_row, pizza_entries = await stored_call(await tenant_get("pizza"), heard["callId"])
    assert pizza_row is None and pizza_entries == []
    assert not await transcript_has("pizza", "located")


async def test_barge_in_flushes_the_agents_queued_audio_at_once(db, mic_wav, capsys):
    async with voice_server(LATE_ECHO) as server:
        await demo_key_create("joes", [server.origin(JOES_HOST)])
        async with chromium(mic_wav=mic_wav) as browser:
            page = await open_demo(browser, server)
            state = await wait_debug(page, "d.flushes.length >= 1", timeout=20)
            await page.get_by_role("button", name="Hang up").click()
            row = await call_ended_wait("joes", state["callId"])

    flushes = state["flushes"]
    with capsys.disabled():
        figures = ", ".join(f"{f['ms']:.1f} ms ({f['dropped']} samples dropped)" for f in flushes)
        print(f"\nbarge-in: playback queue empty {figures} after `interrupt`")
    artifact("widget-barge-in.json").write_text(json.dumps(state, indent=2))
    assert state["interrupts"] >= 1
    assert flushes[0]["dropped"] > 0  # there was agent audio queued to drop
    assert all(flush["ms"] < FLUSH_BUDGET_MS for flush in flushes)
    assert state["playback"]["flushes"] >= 1
    assert row.metrics["interruptions"] >= 1


async def test_denied_microphone_falls_back_to_text_that_works_end_to_end(db):
    async with live_server(PERSONAPLEX_URLS=[]) as server:
        await demo_key_create("joes", [server.origin(JOES_HOST)])
        async with chromium(allow_mic=False) as browser:
            phone = {"width": 390, "height": 844}
            page = await open_demo(browser, server, viewport=phone)
            widget = page.locator(WIDGET)
            await widget.get_by_text("Microphone access is blocked").wait_for()
            state = await wait_debug(page, "d.callId && d.messages.session === 1")
            await type_message(page, "How much is a haircut?")
            answer = widget.locator(".msg.agent").filter(has_text="25 dollars")
            await answer.wait_for(timeout=10_000)
            answer_text = await answer.inner_text()
            await page.screenshot(path=artifact("widget-text-phone.png"))
            await page.get_by_role("button", name="End chat").click()
            row = await call_ended_wait("joes", state["callId"])

    assert state["micError"] == "NotAllowedError"
    assert state["mode"] == "text" and state["sentFrames"] == 0
    assert "25 dollars" in answer_text
    _, entries = await stored_call(await tenant_get("joes"), row.pk)
    assert ("caller", "How much is a haircut?") in entries


async def test_a_dropped_connection_reconnects_as_a_new_call_keeping_the_conversation(db):
    async with live_server(PERSONAPLEX_URLS=[]) as server:
        network = FlakyNetwork(server.port)  # the browser reaches the server through it
        await network.start()
        proxied = LiveServer(network.port)
        await demo_key_create("joes", [proxied.origin(JOES_HOST)])
        try:
            async with chromium(allow_mic=False) as browser:
                page = await open_demo(browser, proxied)
                widget = page.locator(WIDGET)
                first = await wait_debug(page, "d.callId && d.messages.session === 1")
                await type_message(page, "When are you open?")
                await widget.locator(".msg.agent").filter(has_text="Tuesday").wait_for()

                network.drop()
                await widget.get_by_text("The connection dropped. Reconnecting").wait_for()
                second = await wait_debug(page, "d.calls === 2 && d.callId")
                await widget.get_by_text("Reconnected: this is a new call.").wait_for()
                kept = await widget.locator(".msg.agent").filter(has_text="Tuesday").count()
                await page.get_by_role("button", name="End chat").click()
                dropped = await call_ended_wait("joes", first["callId"])
                await call_ended_wait("joes", second["callId"])
        finally:
            await network.stop()

    assert second["callId"] != first["callId"]
    assert kept == 1  # the conversation shown before the drop is still there
    assert dropped.end_reason == "caller_disconnected"


async def test_admin_test_call_reaches_the_persona_with_the_admin_session(db, mic_wav):
    async with live_server(PERSONAPLEX_URLS=[], NEXUS_VOICE_FALLBACK="text") as server:
        async with admin_create("joes", "joes-test-caller") as password:
            persona = await persona_pk("joes")
            async with chromium(mic_wav=mic_wav) as browser:
                page = await browser.new_page()
                await page.goto(server.url(JOES_HOST, "/admin/login/"))
                await page.get_by_label("Username").fill("joes-test-caller")
                await page.get_by_label("Password").fill(password)
                await page.get_by_role("button", name="Log in").click()
                await page.goto(server.url(JOES_HOST, f"/admin/voice/persona/{persona}/change/"))
                await page.get_by_role("button", name="Test call").click()
                widget = page.locator(WIDGET)
                await widget.get_by_text("Voice is unavailable, you can keep typing.").wait_for()
                state = await wait_debug(page, "d.callId && d.messages.mode === 1")
                await type_message(page, "How much is a haircut?")
                await widget.locator(".msg.agent").filter(has_text="25 dollars").wait_for()
                await page.get_by_role("button", name="Hang up").click()
                row = await call_ended_wait("joes", state["callId"])

    assert state["mode"] == "voice"  # it asked for voice; the server said text, with a reason
    assert row.widget_key is None  # a test call: no widget key, the admin's session let it in
    assert row.end_reason == "caller_hangup"


async def test_a_booking_shows_the_caller_one_card_per_tool_run_by_its_title(
    db, open_day, celery_worker
):
    said, day = open_day
    async with live_server(PERSONAPLEX_URLS=[]) as server:
        await demo_key_create("joes", [server.origin(JOES_HOST)])
        async with chromium(allow_mic=False) as browser:
            page = await open_demo(browser, server)
            widget = page.locator(WIDGET)
            state = await wait_debug(page, "d.callId && d.messages.session === 1")
            await type_message(page, f"Can I book a haircut {said} at 3pm? My name is Jamie Lee")
            await widget.locator(".msg.agent").filter(has_text="Shall I go ahead?").wait_for()
            await type_message(page, "Yes please")
            await widget.locator(".msg.agent").filter(has_text="All done.").wait_for()
            cards = await widget.locator(".tool").all_inner_texts()
            agent_said = await widget.locator(".msg.agent").all_inner_texts()
            await page.screenshot(path=artifact("widget-booking-cards.png"))
            await page.get_by_role("button", name="End chat").click()
            await call_ended_wait("joes", state["callId"])

    slot = spoken_slot(at_3pm(day))
    assert [" ".join(card.split()) for card in cards] == [
        f"Booking {slot} is free",
        f"Booking Booked for Jamie Lee: {slot}",
    ]
    assert not any("book_appointment" in text or "Booked for" in text for text in agent_said)
