"""Joe's demo page called by voice in real Chromium with `make run`'s defaults: no sidecar, no
Gemini key, so the offline cascade voices the call (pocketsphinx, the offline agent, eSpeak NG).

The caller is Chromium's fake microphone playing a WAV: silence while the greeting plays, then
"what are your opening hours" (espeak-ng), then silence. What the widget's playback worklet
plays is tapped in the page (a ScriptProcessor on its output) and checked by what it says: the
offline speech-to-text, with the persona's vocabulary as calls use it, must hear words of the
greeting and of the answer in it. The page's socket is watched for the `mode` message that
names the engine. A screenshot, the played audio and what the speech-to-text heard in it are
kept under test-artifacts/.
"""

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from channels.db import database_sync_to_async

from bench.speech import silence, speak, to_pcm24k, write_wav
from nexus_project.tests.processes import (
    answers_health,
    free_port,
    production_env,
    running_async,
    web_process,
)
from tenants_app.db import tenant_schema
from tenants_app.models import Tenant
from voice.audio.base import PCM_RATE
from voice.models import Persona
from voice.speech.pocketsphinx_stt import PocketsphinxSpeechToText
from voice.speech.stt import SpeechContext
from voice.speech.vocabulary import speech_phrases
from voice.tests.browser import (
    SPEECH_VOICE,
    artifact,
    call_ended_wait,
    chromium,
    demo_key_create,
    tenant_get,
)
from voice.tests.conftest import stored_call

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(420)]

JOES_HOST = "joes.localhost"
WIDGET = "[data-nexus-widget]"
GREETING = "Thanks for calling Joe's Barbershop, this is Sam. How can I help?"
HOURS = "Tuesday to Saturday 9:00\N{EN DASH}18:00; closed Monday and Sunday."  # Joe's hours
QUESTION = "what are your opening hours"
# The greeting lasts about 5.5 s and starts a second or two after the click on a busy machine:
# the caller keeps quiet until it is over, so the question does not barge in on it.
QUIET_BEFORE_SECONDS = 9.0
WAIT_MS = 120_000  # for each step of the call: this 2-core box may be busy with other suites
GAP_SECONDS = 1.0  # of silence in the played audio between two of the agent's turns
LOUD = 0.01 * 32768  # a played sample above this is the agent's voice
# Checked once a turn's final caption is shown: its audio reached the worklet before that
# caption, so the worklet being quiet and (nearly) empty means the turn has played out.
PLAYED_OUT = "!d.playback.speaking && d.playback.queued < 480"
# Words of the greeting and of the answer: one of each must be heard in their played audio (the
# page's playback glitches now and then on a busy machine, and eSpeak's male voice is not the
# one pocketsphinx hears best: a word or two of each turn is what it reliably gets).
GREETING_WORDS = {"thanks", "calling", "barbershop", "barber", "sam", "help"}
ANSWER_WORDS = {"tuesday", "saturday", "closed", "sunday", "monday"}

# Taps the widget's playback worklet: every block it outputs is kept, in the context's rate.
# The tap writes nothing to its own output, so the page's sound is unchanged.
PLAYBACK_TAP = """
(() => {
  const Native = window.AudioWorkletNode;
  if (!Native) return;
  const played = (window.__nexusPlayed = { rate: 0, samples: 0, blocks: [] });
  window.AudioWorkletNode = class extends Native {
    constructor(context, name, options) {
      super(context, name, options);
      if (name !== "nexus-playback") return;
      const tap = context.createScriptProcessor(4096, 1, 1);
      tap.onaudioprocess = (event) => {
        const block = new Float32Array(event.inputBuffer.getChannelData(0));
        played.blocks.push(block);
        played.samples += block.length;
      };
      played.rate = context.sampleRate;
      played.tap = tap; // referenced: never collected while the call runs
      this.connect(tap);
      tap.connect(context.destination);
    }
  };
})();
"""
PLAYED_PCM = """
() => {
  const played = window.__nexusPlayed;
  const pcm = new Int16Array(played.samples);
  let at = 0;
  for (const block of played.blocks) {
    for (let i = 0; i < block.length; i++) {
      pcm[at++] = Math.max(-32768, Math.min(32767, Math.round(block[i] * 32767)));
    }
  }
  const bytes = new Uint8Array(pcm.buffer);
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return { rate: played.rate, pcm: btoa(text) };
}
"""


def caller_wav(folder: Path) -> Path:
    """Silence through the greeting, the question, silence; played once (`%noloop`)."""
    pcm = np.concatenate(
        [silence(QUIET_BEFORE_SECONDS), speak(QUESTION, voice=SPEECH_VOICE), silence(3.0)]
    )
    path = folder / "caller.wav"
    write_wav(path, pcm, PCM_RATE)
    return Path(f"{path}%noloop")  # Chromium's flag: afterwards the microphone sends silence


def agent_turns_played(pcm: np.ndarray) -> list[np.ndarray]:
    """The played audio cut into the agent's turns: loud stretches `GAP_SECONDS` apart."""
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > LOUD)
    if not loud.size:
        return []
    gaps = np.flatnonzero(np.diff(loud) > GAP_SECONDS * PCM_RATE)
    starts = [loud[0], *loud[gaps + 1]]
    ends = [*loud[gaps], loud[-1]]
    pad = PCM_RATE // 5
    return [pcm[max(0, s - pad) : e + pad] for s, e in zip(starts, ends, strict=True)]


@database_sync_to_async
def vocabulary(slug: str) -> SpeechContext:
    """The speech-to-text context of `slug`'s persona, as its calls hear callers (pocketsphinx's
    general model gets eSpeak's male voice wrong too often to tell a played greeting apart)."""
    tenant = Tenant.objects.get(slug=slug)
    with tenant_schema(tenant.schema_name):
        persona = Persona.objects.order_by("id").first()
        knowledge = [(item.title, item.content) for item in persona.knowledge.all()]
    phrases = speech_phrases(
        agent_name=persona.name, business=tenant.name, knowledge=knowledge, tools=()
    )
    return SpeechContext(language=persona.language, phrases=phrases)


async def heard_in(*turns: np.ndarray, context: SpeechContext) -> list[str]:
    """What the offline speech-to-text hears in each of the agent's played turns."""
    stt = PocketsphinxSpeechToText()
    pad = silence(0.3)
    return [await stt.transcribe(np.concatenate([pad, turn, pad]), context) for turn in turns]


async def wait_state(page, condition: str) -> dict:
    """Wait until `condition` (JS over `d` = Nexus.debug) holds; return Nexus.debug."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    script = f"() => {{ const d = window.Nexus && Nexus.debug; return !!d && ({condition}); }}"
    try:
        await page.wait_for_function(script, timeout=WAIT_MS)
    except PlaywrightTimeout:
        state = await page.evaluate("() => JSON.stringify(window.Nexus && Nexus.debug)")
        pytest.fail(f"after {WAIT_MS / 1000:g} s, not {condition}: Nexus.debug = {state}")
    return await page.evaluate("() => JSON.parse(JSON.stringify(Nexus.debug))")


def make_run_env() -> dict[str, str]:
    """`make run`'s environment on the test's database and Redis: development mode, no sidecar,
    no Gemini key, nothing else set (the cascade is the default voice fallback)."""
    plain_http = {
        name: "0"
        for name in ("DJANGO_TLS_PROXY_HEADER", "DJANGO_SECURE_SSL_REDIRECT",
                     "DJANGO_SECURE_COOKIES", "DJANGO_HSTS_SECONDS")
    }  # fmt: skip
    return production_env(DJANGO_DEBUG="1", **plain_http)


async def test_make_run_defaults_answer_the_demo_call_with_the_offline_voice(db, tmp_path):
    # Given `make run`'s defaults, served by a web process of its own (as `make run` does).
    mic = caller_wav(tmp_path)
    port = free_port()
    server = web_process(port, make_run_env(), tmp_path)
    async with running_async(server, answers_health(port), "the web process"):
        origin = f"http://{JOES_HOST}:{port}"
        await demo_key_create("joes", [origin])
        async with chromium(mic_wav=mic) as browser:
            page = await browser.new_page()
            await page.add_init_script(PLAYBACK_TAP)
            received: list[dict] = []
            page.on(
                "websocket",
                lambda ws: ws.on(
                    "framereceived",
                    lambda payload: (
                        received.append(json.loads(payload)) if isinstance(payload, str) else None
                    ),
                ),
            )
            # When the caller opens the widget and stays quiet, then asks for the hours.
            await page.goto(f"{origin}/demo/")
            await page.get_by_role("button", name="Talk to us").click()
            widget = page.locator(WIDGET)
            final_agent = widget.locator(".msg.agent:not(.partial)")
            greeting = final_agent.filter(has_text="How can I help?")
            await greeting.wait_for(timeout=WAIT_MS)
            greeted = await wait_state(page, PLAYED_OUT)
            standby = widget.get_by_text("a standby voice answers meanwhile")
            await standby.wait_for(timeout=WAIT_MS)
            question = widget.locator(".msg.caller:not(.partial)").filter(has_text="hours")
            await question.wait_for(timeout=WAIT_MS)
            answer = final_agent.filter(has_text="Tuesday to Saturday")
            await answer.wait_for(timeout=WAIT_MS)
            # The answer's last audio has played, and the tap has kept another half second.
            answered = await wait_state(page, PLAYED_OUT)
            tapped = await page.evaluate("() => window.__nexusPlayed.samples")
            await page.wait_for_function(
                f"() => window.__nexusPlayed.samples > {tapped} + __nexusPlayed.rate / 2",
                timeout=WAIT_MS,
            )
            await page.screenshot(path=artifact("demo-voice-offline.png"))
            played = await page.evaluate(PLAYED_PCM)
            notes = await widget.locator(".note").all_inner_texts()
            greeting_text = await greeting.locator(".text").inner_text()
            question_text = await question.locator(".text").inner_text()
            answer_text = await answer.locator(".text").inner_text()
            await page.get_by_role("button", name="Hang up").click()
            row = await call_ended_wait("joes", answered["callId"], timeout=60)

    # Then the widget was told the cascade serves, and says so in plain words.
    modes = [message for message in received if message["type"] == "mode"]
    assert modes == [
        {"type": "mode", "mode": "voice", "reason": "sidecar_unavailable", "engine": "cascade"}
    ]
    assert any("standby voice" in text for text in notes), notes
    assert not any("keep typing" in text for text in notes), notes
    assert greeted["mode"] == "voice" and greeted["messages"].get("ready") == 1
    # The greeting was captioned whole, and it played in the page: its words are in the audio.
    assert greeting_text == GREETING
    pcm = to_pcm24k(np.frombuffer(base64.b64decode(played["pcm"]), dtype=np.int16), played["rate"])
    write_wav(artifact("demo-voice-offline-played.wav"), pcm, PCM_RATE)
    turns = agent_turns_played(pcm)
    assert len(turns) >= 2, f"{len(turns)} loud stretches in {len(pcm) / PCM_RATE:.1f} s played"
    assert len(turns[0]) > 3 * PCM_RATE  # seconds of the greeting, not a click
    greeting_heard, answer_heard = await heard_in(
        turns[0], turns[-1], context=await vocabulary("joes")
    )
    heard = {"greeting": greeting_heard, "answer": answer_heard, "caller": question_text}
    heard["playback"] = answered["playback"]  # underruns and skips, if the page glitched
    artifact("demo-voice-offline-heard.json").write_text(json.dumps(heard, indent=2))
    assert GREETING_WORDS & set(greeting_heard.split()), heard
    # The caller's question was heard and captioned, and the answer captioned, played and spoken.
    assert "opening hours" in question_text, question_text
    assert answer_text == HOURS
    assert ANSWER_WORDS & set(answer_heard.split()), heard
    assert answered["playback"]["played"] > 8 * PCM_RATE  # greeting and answer, in agent samples
    assert answered["agentSpoke"] >= 2 and answered["sentFrames"] > 0
    # And the call is stored in Joe's schema, by voice, with both sides' words.
    assert row is not None and row.mode == "voice" and row.end_reason == "caller_hangup"
    _, entries = await stored_call(await tenant_get("joes"), row.pk)
    assert ("agent", GREETING) in entries and ("agent", HOURS) in entries
    assert any(role == "caller" and "hours" in text for role, text in entries), entries
