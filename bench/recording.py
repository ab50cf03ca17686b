"""What recording a call costs: CPU seconds and bytes per call-minute, and the event loop's share.

    python -m bench.recording [--minutes 3]

A call of spoken turns (eSpeak NG: the caller asks, the agent answers, pauses between) is fed
to a real `CallRecorder` frame by frame, 20 ms of caller audio each step and the agent's audio
as it speaks, on a call clock moved by hand so the run takes no wall time. Measured: the CPU of
the whole process (the event loop placing audio, and the writer's thread encoding it), the CPU
of the event loop alone per 20 ms frame, and the size of the file it made.
"""

import argparse
import asyncio
import sys
import time

from bench.environment import django_setup

django_setup()

import numpy as np  # noqa: E402

from bench.clocks import HandClock  # noqa: E402
from bench.speech import silence, speak  # noqa: E402
from voice.recording.recorder import CallRecorder  # noqa: E402

FRAME = 480  # 20 ms of PCM24k
QUESTION = "hello, could I book a haircut for tomorrow afternoon please"
ANSWER = "of course, we have three pm or four thirty free tomorrow, which one would you like"


def conversation(seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """Caller and agent tracks of `seconds`: turns that alternate, silence between."""
    question, answer = speak(QUESTION), speak(ANSWER)
    turn = len(question) + len(answer) + 2 * 12_000
    caller_turn = np.concatenate([question, silence(0.5), np.zeros(len(answer), np.int16)])
    agent_turn = np.concatenate([np.zeros(len(question), np.int16), silence(0.5), answer])
    repeats = int(seconds * 24_000 // turn) + 1
    size = int(seconds * 24_000)
    caller = np.tile(np.pad(caller_turn, (0, turn - len(caller_turn))), repeats)[:size]
    agent = np.tile(np.pad(agent_turn, (0, turn - len(agent_turn))), repeats)[:size]
    return caller, agent


async def measure(minutes: float) -> dict[str, float]:
    caller, agent = conversation(minutes * 60)
    sizes: list[int] = []

    async def store(*, schema_name: str, call_id: str, path) -> str:
        sizes.append(path.stat().st_size)
        return path.name

    clock = HandClock()
    recorder = CallRecorder(schema_name="bench", call_id="bench", clock=clock, store=store)
    cpu_start, loop_start = time.process_time(), time.thread_time()
    for start in range(0, len(caller), FRAME):
        clock.now_ms = (start + FRAME) // 24
        recorder.caller_audio(caller[start : start + FRAME], time.perf_counter())
        if agent[start : start + FRAME].any():  # the agent's audio goes out only as it speaks
            recorder.agent_audio(agent[start : start + FRAME])
    loop_cpu = time.thread_time() - loop_start
    await recorder.close()
    cpu = time.process_time() - cpu_start
    frames = len(caller) // FRAME
    return {
        "minutes": minutes,
        "cpu_seconds_per_minute": cpu / minutes,
        "bytes_per_minute": sizes[0] / minutes,
        "loop_microseconds_per_frame": loop_cpu / frames * 1e6,
    }


def main(argv: list[str]) -> int:
    cli = argparse.ArgumentParser(description="What recording a call costs.")
    cli.add_argument("--minutes", type=float, default=3.0, help="length of the call recorded")
    options = cli.parse_args(argv)
    figures = asyncio.run(measure(options.minutes))
    print(f"Recording a {figures['minutes']:g}-minute call (Opus 24 kb/s, mono, both sides):")
    print(f"  CPU:        {figures['cpu_seconds_per_minute']:.3f} s per call-minute")
    print(f"  storage:    {figures['bytes_per_minute'] / 1000:.0f} kB per call-minute")
    print(f"  event loop: {figures['loop_microseconds_per_frame']:.1f} µs per 20 ms frame")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
