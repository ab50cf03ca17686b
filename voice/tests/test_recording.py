"""The recording's stages alone: the call's timeline (`CallMix`), the Opus file it becomes, and
the recorder on a call clock moved by hand, failures included."""

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest

from bench.clocks import HandClock
from bench.signals import tone
from voice.recording.mixing import CallMix
from voice.recording.recorder import CallRecorder
from voice.recording.writer import OpusFileWriter
from voice.tests.recordings import decode

RATE = 24_000
FRAME = 480  # 20 ms


def frames(pcm: np.ndarray) -> list[np.ndarray]:
    return [pcm[i : i + FRAME] for i in range(0, len(pcm), FRAME)]


def file_bytes(path: Path) -> bytes | None:
    """The file's bytes, or None when it is not there."""
    return path.read_bytes() if path.exists() else None


def mixed(mix: CallMix, until: int) -> np.ndarray:
    audio, silence = mix.take(until)
    return np.concatenate([audio, np.zeros(silence, np.int16)])


def test_jittered_caller_frames_are_placed_end_to_end_and_a_pause_is_silence():
    mix = CallMix()
    first, second = tone(440, 0.4), tone(440, 0.2)
    jitter = [0, 30, -20, 50, 0, -40, 10, 60, -10, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    for index, frame in enumerate(frames(first)):  # arrive 1 s in, up to 60 samples early/late
        mix.caller(frame, arrived=RATE + (index + 1) * FRAME + jitter[index])
    for index, frame in enumerate(frames(second)):  # after a 1 s pause
        mix.caller(frame, arrived=int(2.4 * RATE) + (index + 1) * FRAME)

    audio = mixed(mix, 3 * RATE)

    assert len(audio) == 3 * RATE
    assert np.array_equal(audio[RATE : int(1.4 * RATE)], first)  # whole, not cut up by jitter
    assert not audio[:RATE].any() and not audio[int(1.4 * RATE) : int(2.4 * RATE)].any()
    assert np.array_equal(audio[int(2.4 * RATE) : int(2.6 * RATE)], second)


def test_agent_pieces_follow_each_other_a_barge_in_cuts_them_and_sides_add_up_clipped():
    mix = CallMix()
    loud = np.full(RATE, 30_000, np.int16)
    mix.agent(loud[: RATE // 2], now=RATE)  # handed on at 1 s, ahead of its playing
    mix.agent(loud[RATE // 2 :], now=RATE + 100)  # follows the first, not at 1 s + 100
    mix.agent_cut(now=int(1.75 * RATE))  # the caller barged in 0.75 s into it
    mix.caller(np.full(RATE // 4, 10_000, np.int16), arrived=int(1.5 * RATE))

    audio = mixed(mix, 2 * RATE)

    assert (audio[RATE : int(1.25 * RATE)] == 30_000).all()
    assert (audio[int(1.25 * RATE) : int(1.5 * RATE)] == 32_767).all()  # both: clipped
    assert (audio[int(1.5 * RATE) : int(1.75 * RATE)] == 30_000).all()
    assert not audio[int(1.75 * RATE) :].any()  # what the barge-in dropped is not there


def test_what_was_taken_is_not_held_and_late_audio_is_cut_at_it():
    mix = CallMix()
    mix.caller(tone(440, 0.5), arrived=RATE // 2)
    first = mixed(mix, RATE // 4)
    mix.caller(tone(440, 0.5), arrived=RATE // 2)  # the same again, late: only its tail fits
    rest = mixed(mix, RATE)

    assert len(first) == RATE // 4 and len(rest) == 3 * RATE // 4
    assert mix.taken == RATE


async def test_the_file_is_written_as_blocks_come_and_is_exactly_as_long(tmp_path):
    writer = OpusFileWriter(tmp_path / "call.ogg")
    writer.write(tone(440, 1.0), silence=RATE * 3 // 2)
    await asyncio.sleep(0)
    writer.write(tone(880, 0.5))
    await writer.finish()

    recording = decode(file_bytes(tmp_path / "call.ogg") or b"")
    # Exactly 3 s, give or take the codec's 6.5 ms start delay (Opus pre-skip).
    assert recording.declared_seconds == pytest.approx(3.0, abs=0.01)
    assert recording.seconds == pytest.approx(3.0, abs=0.01)
    assert recording.frequency(0.1, 0.9) == pytest.approx(440, abs=5)
    assert recording.level(1.1, 2.4) < -60
    assert recording.frequency(2.6, 2.9) == pytest.approx(880, abs=5)


async def test_the_recorder_stores_a_file_as_long_as_the_call():
    stored: list[tuple[bytes | None, str, Path]] = []

    async def store(*, schema_name: str, call_id: str, path: Path) -> str:
        stored.append((file_bytes(path), schema_name, path))
        return "stored.ogg"

    clock = HandClock()
    recorder = CallRecorder(schema_name="joes", call_id="c1", clock=clock, store=store)
    for index, frame in enumerate(frames(tone(440, 2.0))):  # 0.5 s to 2.5 s, in real time
        clock.now_ms = 500 + (index + 1) * 20
        recorder.caller_audio(frame, time.perf_counter())
    clock.now_ms = 4000
    recorder.agent_audio(tone(1000, 1.0))
    clock.now_ms = 6200
    await recorder.close()

    ((data, schema_name, local_path),) = stored
    assert data is not None
    recording = decode(data)
    assert schema_name == "joes"
    assert recording.seconds == pytest.approx(6.2, abs=0.02)
    assert recording.frequency(0.6, 2.4) == pytest.approx(440, abs=5)
    assert recording.frequency(4.1, 4.9) == pytest.approx(1000, abs=5)
    assert recording.level(2.7, 3.8) < -60 and recording.level(5.1, 6.2) < -60
    assert local_path.name.startswith("nexus-call-c1-")
    assert file_bytes(local_path) is None  # the local file is gone once stored
