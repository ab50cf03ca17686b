"""Call recordings in real Chromium: the caller is told before anything is said, and the staff
play the recording back, seeking in it, on the call's page in the admin. `Nexus.call('text')`
starts a text call (never recorded).

The server is daphne in a forked process on the test database (`voice/tests/browser.py`); the
persona speaks through the cascade voice (eSpeak NG), the caller through the fake microphone.
"""

import base64
import contextlib
from pathlib import Path

import numpy as np
import pytest

from bench.speech import silence, speak, write_wav
from tenants_app.tests.factories import PASSWORD
from voice.audio.base import level_dbfs
from voice.tests.browser import (
    SPEECH_VOICE,
    artifact,
    call_ended_wait,
    call_row,
    chromium,
    demo_key_create,
    live_server,
    staff_user,
    tenant_get,
)
from voice.tests.conftest import Key, persona_voice
from voice.tests.recordings import decode, recorded_call_wait, recording_calls

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(240)]

JOES_HOST = "joes.localhost"
WIDGET = "[data-nexus-widget]"
NOTICE = "This call is recorded."

# Kept in the page as soon as the notice is shown: what of the agent had been played or shown.
WATCH_NOTICE = """() => {
  const log = document.querySelector('[data-nexus-widget]').shadowRoot.querySelector('.log');
  new MutationObserver(() => {
    if (window.atNotice || !log.querySelector('.note.recording')) return;
    window.atNotice = {
      audioBytes: Nexus.debug.audioBytes,
      played: Nexus.debug.playback.played,
      agentCaptions: log.querySelectorAll('.msg.agent').length,
    };
  }).observe(log, {childList: true});
}"""

# The recording's player, once its length is known: that length, and a seek to its middle.
PLAYER = """async () => {
  const audio = document.getElementById('nexus-recording');
  if (!(audio.readyState >= 1)) {
    await new Promise((resolve) => audio.addEventListener('loadedmetadata', resolve, {once: true}));
  }
  const duration = audio.duration;
  const target = Math.floor(duration / 2);
  const seeked = new Promise((resolve) => audio.addEventListener('seeked', resolve, {once: true}));
  audio.currentTime = target;
  await seeked;
  return {duration: duration, target: target, position: audio.currentTime, src: audio.src};
}"""

# A click on the time of the timeline's last row: where the player went, and where it was sent.
SEEK_BY_CLICK = """async () => {
  const audio = document.getElementById('nexus-recording');
  const buttons = document.querySelectorAll('#nexus-timeline .nexus-seek');
  const button = buttons[buttons.length - 1];
  audio.pause();
  const seeked = new Promise((resolve) => audio.addEventListener('seeked', resolve, {once: true}));
  button.click();
  await seeked;
  const offset = parseFloat(button.dataset.seek);
  return {rows: buttons.length, offset: offset, position: audio.currentTime};
}"""

# The recording's bytes, fetched by the page with the staff's session, as base64.
FETCH = """async (src) => {
  const response = await fetch(src);
  const bytes = new Uint8Array(await response.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  const type = response.headers.get('content-type');
  return {status: response.status, type: type, base64: btoa(binary)};
}"""


@pytest.fixture(scope="module")
def mic_wav(tmp_path_factory) -> Path:
    """The caller keeps quiet through the greeting (about 5.5 s, starting a second or two after
    the click), asks where the shop is, and keeps quiet again (the file plays once in the test)."""
    pcm = np.concatenate(
        [silence(9.0), speak("where are you located", voice=SPEECH_VOICE), silence(30.0)]
    )
    path = tmp_path_factory.mktemp("mic") / "caller.wav"
    write_wav(path, pcm, 24_000)
    return path


@contextlib.asynccontextmanager
async def recorded_server(media: Path):
    """A live Nexus where Joe's records its calls and its persona speaks through the cascade."""
    joes = await tenant_get("joes")
    async with (
        recording_calls("joes"),
        persona_voice(Key(joes, "", ""), "cascade", "Kore"),
        live_server(PERSONAPLEX_URLS=[], MEDIA_ROOT=str(media)) as server,
    ):
        await demo_key_create("joes", [server.origin(JOES_HOST)])
        yield server


async def test_the_caller_is_told_first_and_the_staff_play_the_recording_back(
    db, mic_wav, tmp_path
):
    async with recorded_server(tmp_path / "media") as server:
        async with chromium(mic_wav=mic_wav) as browser:
            # Given Joe's demo page, whose widget watches for the notice
            page = await browser.new_page()
            await page.goto(server.url(JOES_HOST, "/demo/"))
            await page.wait_for_function("() => window.Nexus")
            await page.evaluate(WATCH_NOTICE)
            # When the caller calls, and the agent greets
            await page.get_by_role("button", name="Talk to us").click()
            widget = page.locator(WIDGET)
            notice = widget.locator(".note.recording")
            await notice.wait_for()
            greeting = widget.locator(".msg.agent").filter(has_text="How can I help?")
            await greeting.wait_for(timeout=60_000)
            await page.screenshot(path=artifact("widget-recording-notice.png"))
            at_notice = await page.evaluate("() => window.atNotice")
            log = await widget.locator(".log > *").all_inner_texts()
            # And the caller asks where the shop is, and hears the answer begin
            answer = widget.locator(".msg.agent").filter(has_text="Elm Street")
            await answer.wait_for(timeout=60_000)
            await page.wait_for_timeout(1000)
            state = await page.evaluate("() => JSON.parse(JSON.stringify(Nexus.debug))")
            await page.get_by_role("button", name="Hang up").click()
            await widget.get_by_text("You ended the call.").wait_for()
            row = await recorded_call_wait("joes", state["callId"])

            # Then Joe's support staff open the call's page, play its recording, and click a
            # time of the timeline
            staff = await browser.new_page()
            recording_responses: list[int] = []
            staff.on(
                "response",
                lambda response: (
                    recording_responses.append(response.status)
                    if "/recording/" in response.url
                    else None
                ),
            )
            async with staff_user("joes", "joes-listener", support=True):
                await staff.goto(server.url(JOES_HOST, "/admin/login/"))
                await staff.get_by_label("Username").fill("joes-listener")
                await staff.get_by_label("Password").fill(PASSWORD)
                await staff.get_by_role("button", name="Log in").click()
                await staff.goto(server.url(JOES_HOST, f"/admin/voice/call/{row.pk}/change/"))
                player = await staff.evaluate(PLAYER)
                clicked = await staff.evaluate(SEEK_BY_CLICK)
                fetched = await staff.evaluate(FETCH, player["src"])
                await staff.locator("#nexus-recording").scroll_into_view_if_needed()
                await staff.screenshot(path=artifact("call-recording.png"), full_page=True)

    # The notice came first: nothing of the agent had been played or shown yet.
    assert state["recording"] is True
    assert at_notice == {"audioBytes": 0, "played": 0, "agentCaptions": 0}
    assert log[0] == NOTICE
    assert "Thanks for calling Joe's Barbershop" in log[1]
    # The recording: as long as the call, seekable in Chromium, and not silent.
    call_seconds = row.metrics["duration_ms"] / 1000
    assert player["duration"] == pytest.approx(call_seconds, abs=1.0)
    assert player["position"] == pytest.approx(player["target"], abs=0.1)
    assert clicked["rows"] == 3  # the greeting, the question, the answer
    assert clicked["offset"] > 8  # the answer, after the caller's question
    assert clicked["position"] == pytest.approx(clicked["offset"], abs=0.1)
    assert 206 in recording_responses  # Chromium asked for byte ranges, and got them
    assert fetched["status"] == 200 and fetched["type"] == "audio/ogg"
    recording = decode(base64.b64decode(fetched["base64"]))
    assert recording.seconds == pytest.approx(call_seconds, abs=1.0)
    assert level_dbfs(recording.part(0, 5)) > -40  # the greeting is in it
    answered_at = clicked["offset"]
    assert level_dbfs(recording.part(answered_at, answered_at + 1)) > -40  # and the answer
    pizza_row = await call_row("pizza", row.pk)
    assert pizza_row is None


async def test_nexus_call_text_starts_a_text_call_with_no_microphone_and_no_recording(db, tmp_path):
    async with recorded_server(tmp_path / "media") as server:
        async with chromium() as browser:  # a microphone is there: it must not be asked for
            page = await browser.new_page()
            await page.add_init_script(
                "window.micAsked = 0; const ask = navigator.mediaDevices.getUserMedia"
                ".bind(navigator.mediaDevices); navigator.mediaDevices.getUserMedia ="
                " (c) => { window.micAsked += 1; return ask(c); };"
            )
            await page.goto(server.url(JOES_HOST, "/demo/"))
            await page.wait_for_function("() => window.Nexus")
            await page.evaluate("() => Nexus.call('text')")
            widget = page.locator(WIDGET)
            await page.wait_for_function("() => Nexus.debug.messages.session === 1")
            box = widget.get_by_label("Type a message")
            await box.fill("When are you open?")
            await box.press("Enter")
            await widget.locator(".msg.agent").filter(has_text="Tuesday").wait_for()
            state = await page.evaluate("() => JSON.parse(JSON.stringify(Nexus.debug))")
            mic_asked = await page.evaluate("() => window.micAsked")
            notices = await widget.locator(".note.recording").count()
            status = await widget.get_by_role("status").inner_text()
            await page.get_by_role("button", name="End chat").click()
            row = await call_ended_wait("joes", state["callId"])

    assert state["mode"] == "text" and state["recording"] is False
    assert mic_asked == 0
    assert notices == 0
    assert status == "Connected. Type your message."
    assert row.mode == "text" and row.end_reason == "caller_hangup"
    assert row.recording.name == ""
    assert await call_row("pizza", state["callId"]) is None
