"""Call recordings made through `/ws/call/`: both sides, at their time, as long as the call.

A tenant that records calls gets one Ogg/Opus file per voice call in storage, decoded here with
PyAV: the caller's tone where the caller sent it, the agent's audio where the caller heard it,
silence between, and the file as long as the call. The caller is told in the `session` message.
"""

import asyncio
import contextlib
import tempfile
from pathlib import Path

import numpy as np
import pytest
from channels.db import database_sync_to_async

from bench.signals import tone
from bench.speech import silence
from tenants_app.db import tenant_schema
from voice.models import TranscriptEntry
from voice.sidecar.emulator import EmulatorConfig
from voice.speech.pocketsphinx_stt import PocketsphinxSpeechToText
from voice.tests.calls import agent_audio, pcm16_chunks, sidecars, stream_realtime
from voice.tests.conftest import JOES_ORIGIN, call, persona_voice
from voice.tests.recordings import decode, recorded_call_wait, recording_calls

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(120)]

# The emulator echoes the caller 2 s late: the caller's tone and the agent's are apart in time.
LATE_ECHO = EmulatorConfig(load_base_seconds=0.05, load_per_word_seconds=0.0, echo_delay_steps=25)
ECHO_SECONDS = 25 * 0.08


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def leftovers(call_id: str) -> list[Path]:
    """Local files of the call's recording still on disk (there must be none after it)."""
    return list(Path(tempfile.gettempdir()).glob(f"nexus-call-{call_id}-*"))


@database_sync_to_async
def greeting_entry(call_id: str) -> TranscriptEntry:
    with tenant_schema("joes"):
        return TranscriptEntry.objects.filter(call_id=call_id, role="agent").order_by("sequence")[0]


async def test_a_recorded_voice_call_holds_the_caller_then_the_agent_at_their_times(
    joes_key, media
):
    caller_tone = np.concatenate([silence(0.5), tone(440, 0.8, amplitude=0.4), silence(2.8)])
    async with (
        recording_calls("joes"),
        sidecars(config=LATE_ECHO),
        call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller,
    ):
        loop = asyncio.get_running_loop()
        session = await caller.receive()
        opened = loop.time()
        await caller.receive_until("ready")
        tone_at = loop.time() - opened + 0.5  # on the call's clock, within a few ms
        await stream_realtime(caller, pcm16_chunks(caller_tone, 24_000), 0.02)
        await caller.send({"type": "end"})
        await caller.receive_until("ended")
    row = await recorded_call_wait("joes", session["call_id"])

    assert session["recording"] is True
    assert row.recording.name == f"recordings/joes/{row.started_at:%Y/%m}/{row.pk}.ogg"
    assert (media / row.recording.name).is_file()
    recording = decode(row.recording.name)
    call_seconds = row.metrics["duration_ms"] / 1000
    assert recording.seconds == pytest.approx(call_seconds, abs=1.0)
    assert recording.seconds == pytest.approx(
        (row.ended_at - row.started_at).total_seconds(), abs=1.0
    )
    assert recording.declared_seconds == pytest.approx(recording.seconds, abs=0.1)
    # The caller's tone where it was sent; silence while nobody spoke; then the agent's echo.
    caller_onset = recording.onset(after=0)
    assert caller_onset == pytest.approx(tone_at, abs=0.3)
    assert recording.frequency(caller_onset + 0.1, caller_onset + 0.7) == pytest.approx(440, abs=5)
    assert recording.level(caller_onset + 1.0, caller_onset + ECHO_SECONDS - 0.1) < -50
    agent_onset = recording.onset(after=caller_onset + 1.0)
    assert agent_onset == pytest.approx(caller_onset + ECHO_SECONDS, abs=0.4)
    assert recording.frequency(agent_onset + 0.1, agent_onset + 0.7) == pytest.approx(440, abs=5)
    assert recording.level(agent_onset + 0.1, agent_onset + 0.7) > -20
    assert recording.level(0, caller_onset - 0.1) < -50  # before anyone spoke
    assert leftovers(row.pk) == []


@pytest.mark.timeout(180)
async def test_the_agents_spoken_greeting_and_the_callers_tone_are_both_in_the_recording(
    joes_key, media
):
    caller_tone = np.concatenate([tone(440, 1.0, amplitude=0.4), silence(0.6)])
    async with (
        recording_calls("joes"),
        persona_voice(joes_key, "cascade", "Kore"),
        call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller,
    ):
        loop = asyncio.get_running_loop()
        session = await caller.receive()
        opened = loop.time()
        await caller.receive_until("transcript", role="agent", final=True, timeout=60)
        greeted = agent_audio(caller)
        await asyncio.sleep(len(greeted) / 24_000)  # the greeting plays out at the caller's
        tone_at = loop.time() - opened
        await stream_realtime(caller, pcm16_chunks(caller_tone, 24_000), 0.02)
        await caller.send({"type": "end"})
        await caller.receive_until("ended", timeout=30)
    row = await recorded_call_wait("joes", session["call_id"])
    greeting = await greeting_entry(row.pk)

    recording = decode(row.recording.name)
    assert recording.seconds == pytest.approx(row.metrics["duration_ms"] / 1000, abs=1.0)
    # The agent's words, heard in the recording where the transcript places them: the audio
    # the caller got, whole (a 0.1 s gap in it scores ~0.4), and words of it.
    spoken_at = recording.onset(after=0)
    assert spoken_at == pytest.approx(greeting.start_ms / 1000, abs=0.5)
    assert recording.likeness(greeted, near=spoken_at) > 0.9
    said = recording.part(spoken_at - 0.3, tone_at - 0.1)
    heard = await PocketsphinxSpeechToText().transcribe(np.concatenate([said, silence(0.3)]))
    # "Thanks for calling Joe's Barbershop, this is Sam. How can I help?": Opus at 24 kb/s and
    # where its frames fall vary what pocketsphinx makes of the synthetic voice's first words
    # ("... barber shop", "... smaller shot up"); "how can i" came through in every reading.
    assert "how can i" in heard, heard
    # The caller's tone after it, at its own time.
    tone_onset = recording.onset(after=tone_at - 0.3)
    assert tone_onset == pytest.approx(tone_at, abs=0.3)
    assert recording.frequency(tone_onset + 0.1, tone_onset + 0.9) == pytest.approx(440, abs=5)


@pytest.mark.parametrize(("records", "mode"), [(False, "voice"), (True, "text")])
async def test_no_recording_unless_the_tenant_records_and_the_call_is_by_voice(
    joes_key, media, records, mode
):
    async with sidecars():
        async with (
            recording_calls("joes") if records else contextlib.nullcontext(),
            call(f"key={joes_key.key}&mode={mode}", origin=JOES_ORIGIN) as caller,
        ):
            session = await caller.receive()
            if mode == "voice":
                await caller.receive_until("ready")
                await stream_realtime(caller, pcm16_chunks(tone(440, 0.6), 24_000), 0.02)
            else:
                await caller.send({"type": "text", "text": "When are you open?"})
                await caller.receive_until("transcript", role="agent", final=True)
            await caller.send({"type": "end"})
            await caller.receive_until("ended")
    row = await recorded_call_wait("joes", session["call_id"], timeout=2)

    assert session["recording"] is False
    assert row.end_reason == "caller_hangup"
    assert row.recording.name == ""
    assert not (media / "recordings").exists()
    assert leftovers(row.pk) == []


async def test_a_failing_recorder_stops_recording_and_the_call_goes_on(
    joes_key, media, monkeypatch, caplog
):
    def full_disk(path, *, bitrate):
        raise OSError("No space left on device")

    monkeypatch.setattr("voice.recording.writer.opus_file_open", full_disk)
    caller_tone = np.concatenate([tone(440, 1.0, amplitude=0.4), silence(1.0)])
    async with (
        recording_calls("joes"),
        sidecars(),
        call(f"key={joes_key.key}", origin=JOES_ORIGIN) as caller,
    ):
        session = await caller.receive()
        await caller.receive_until("ready")
        await stream_realtime(caller, pcm16_chunks(caller_tone, 24_000), 0.02)
        await caller.send({"type": "end"})
        ended = await caller.receive_until("ended")
    row = await recorded_call_wait("joes", session["call_id"], timeout=2)

    assert session["recording"] is True
    echoed = agent_audio(caller)  # the agent kept answering: the tone came back
    assert np.abs(echoed).max() > 0.2 * 32768
    assert ended["reason"] == "caller_hangup"
    assert row.recording.name == ""
    assert "recording stopped, the call goes on" in caplog.text
    assert "No space left on device" in caplog.text
    assert leftovers(row.pk) == []
