"""The offline speech-to-text's cost per call-minute: `python -m bench.stt_cpu [--minutes M]`.

One simulated caller per scenario is cut into turns by the product's own `CallerTurns` (VAD,
padding, queue) and transcribed by pocketsphinx in one pool worker, warmed up first so the
model's loading is left out. It prints, per call-minute, the seconds of audio the recognizer was
given and the CPU-seconds its worker spent (user + system, from the kernel's counters), for:

- `tones`: what `make bench`'s callers send, 1.5 s tone bursts (the VAD takes them for speech)
  and 1 s gaps;
- `conversation`: espeak-ng sentences, each followed by 4 s of the caller listening in silence.

Calls are decoded as the product decodes them: with the language model of a persona's phrases
(Joe's Barbershop's, `bench.word_errors.persona_phrases`).

It reports; it never fails on a figure. Run it on an otherwise idle machine for figures that
compare.
"""

import argparse
import asyncio
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import psutil

from bench.environment import django_setup

os.environ.setdefault("NEXUS_SPEECH_TO_TEXT_WORKERS", "1")  # one worker: the CPU of one, warmed up
django_setup()

from bench.clocks import HandClock  # noqa: E402
from bench.signals import tone  # noqa: E402
from bench.speech import silence, speak  # noqa: E402
from bench.word_errors import persona_phrases  # noqa: E402
from voice.audio.base import PCM_RATE, CallerAudio  # noqa: E402
from voice.call.caller_turns import CallerTurns  # noqa: E402
from voice.speech.pocketsphinx_stt import PocketsphinxSpeechToText  # noqa: E402
from voice.speech.stt import ANYTHING, SpeechContext  # noqa: E402
from voice.speech.vad import VoiceActivityDetector  # noqa: E402

CHUNK_MS = 20
VOICE = "en-us+f5"
SENTENCES = (
    "hi i would like to book a haircut tomorrow at three pm",
    "do you have any free times on saturday",
    "how much is a beard trim",
    "can i come in on friday at ten am",
    "is there anything later in the afternoon",
    "thank you goodbye",
)


class CountingSpeechToText:
    """Pocketsphinx, counting the audio it is given."""

    def __init__(self) -> None:
        self._stt = PocketsphinxSpeechToText()
        self.samples = 0

    async def transcribe(self, pcm: np.ndarray, context: SpeechContext = ANYTHING) -> str:
        self.samples += len(pcm)
        return await self._stt.transcribe(pcm, context)


@dataclass(frozen=True)
class SttCost:
    scenario: str
    call_minutes: float
    audio_seconds: float  # given to the recognizer
    cpu_seconds: float  # spent by its worker
    wall_seconds: float


def tones(seconds: float) -> np.ndarray:
    period = np.concatenate((tone(440.0, 1.5, amplitude=0.3), silence(1.0)))
    return np.resize(period, round(seconds * PCM_RATE))


def conversation(seconds: float) -> np.ndarray:
    parts, total, index = [], 0, 0
    while total < seconds * PCM_RATE:
        said = speak(SENTENCES[index % len(SENTENCES)], voice=VOICE)
        parts += [said, silence(4.0)]
        total += len(said) + 4 * PCM_RATE
        index += 1
    return np.concatenate(parts)[: round(seconds * PCM_RATE)]


def _chunks(pcm: np.ndarray) -> Iterator[np.ndarray]:
    size = PCM_RATE * CHUNK_MS // 1000
    for start in range(0, len(pcm), size):
        yield pcm[start : start + size]


def _workers_cpu() -> float:
    children = psutil.Process().children(recursive=True)
    return sum(sum(child.cpu_times()[:2]) for child in children)


async def _nothing(*_: object) -> None:
    return None


async def scenario_run(name: str, pcm: np.ndarray, speech: SpeechContext) -> SttCost:
    stt = CountingSpeechToText()
    await stt.transcribe(speak("hello there", voice=VOICE), speech)  # loads the models
    stt.samples = 0
    clock = HandClock()
    turns = CallerTurns(
        detector=VoiceActivityDetector(),
        stt=stt,
        speech=speech,
        clock=clock,
        on_speech_start=_nothing,
        on_utterance=_nothing,
        queue_limit=10_000,  # every segment transcribed: the cost of all of them
    )
    cpu, wall = _workers_cpu(), time.monotonic()
    for chunk in _chunks(pcm):
        clock.now_ms += CHUNK_MS
        await turns.audio(CallerAudio.at_24k(chunk))
    await turns.close()
    return SttCost(
        scenario=name,
        call_minutes=len(pcm) / PCM_RATE / 60,
        audio_seconds=stt.samples / PCM_RATE,
        cpu_seconds=_workers_cpu() - cpu,
        wall_seconds=time.monotonic() - wall,
    )


def report(costs: list[SttCost]) -> str:
    lines = [
        f"offline speech-to-text, one worker (machine: {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f})",
        f"{'scenario':<14}{'audio given s/call-min':>24}{'worker CPU-s/call-min':>24}",
    ]
    for cost in costs:
        lines.append(
            f"{cost.scenario:<14}{cost.audio_seconds / cost.call_minutes:>24.1f}"
            f"{cost.cpu_seconds / cost.call_minutes:>24.2f}"
        )
    return "\n".join(lines)


async def main(minutes: float) -> None:
    seconds, speech = minutes * 60, SpeechContext(phrases=persona_phrases())
    costs = [
        await scenario_run("tones", tones(seconds), speech),
        await scenario_run("conversation", conversation(seconds), speech),
    ]
    print(report(costs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.stt_cpu", description=__doc__)
    parser.add_argument("--minutes", type=float, default=2.0, help="call-minutes per scenario")
    asyncio.run(main(parser.parse_args().minutes))
