"""The caller's turns: only speech reaches the recognizer, and a recognizer that falls behind
costs captions, never the audio path."""

import asyncio
import logging

import numpy as np
import pytest

from bench.clocks import HandClock
from bench.signals import tone
from bench.speech import silence, speak
from voice.audio.base import PCM_RATE, CallerAudio
from voice.call.caller_turns import CallerTurns
from voice.call.speech_segments import PAD_SECONDS
from voice.speech.pocketsphinx_stt import PocketsphinxSpeechToText
from voice.speech.stt import ANYTHING, SpeechContext, speech_to_text
from voice.speech.vad import VoiceActivityDetector

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(120)]

VOICE = "en-us+f5"  # the espeak-ng voice pocketsphinx's English model understands best
CHUNK = PCM_RATE // 50  # 20 ms, as a widget sends


class RecordingSpeechToText:
    """Keeps what it is given; "hears" how long each segment's sound lasts; waits for `gate`
    if set."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.given: list[np.ndarray] = []
        self._gate = gate

    async def transcribe(self, pcm: np.ndarray, context: SpeechContext = ANYTHING) -> str:
        self.given.append(pcm)
        if self._gate is not None:
            await self._gate.wait()
        return f"{len(pcm) / PCM_RATE - 2 * PAD_SECONDS:.1f} s"


class Turns:
    """`CallerTurns` fed in 20 ms chunks on a hand-moved clock, keeping what it transcribed."""

    def __init__(self, stt) -> None:
        self.clock = HandClock()
        self.heard: list[tuple[str, int, int]] = []
        self.speech_starts = 0
        self.turns = CallerTurns(
            detector=VoiceActivityDetector(),
            stt=stt,
            speech=ANYTHING,
            clock=self.clock,
            on_speech_start=self._started,
            on_utterance=self._heard,
        )

    async def _started(self) -> None:
        self.speech_starts += 1

    async def _heard(self, text: str, start_ms: int, end_ms: int) -> None:
        self.heard.append((text, start_ms, end_ms))

    async def say(self, pcm: np.ndarray) -> None:
        for start in range(0, len(pcm), CHUNK):
            self.clock.now_ms += 20
            await self.turns.audio(CallerAudio.at_24k(pcm[start : start + CHUNK]))
            await asyncio.sleep(0)  # a call yields between frames


async def test_silence_around_and_between_utterances_is_not_sent_to_the_recognizer():
    said = speak("where are you located", voice=VOICE)
    stt = RecordingSpeechToText()
    turns = Turns(stt)

    await turns.say(np.concatenate([silence(1.0), said, silence(3.0), said, silence(2.0)]))
    await turns.turns.close()

    pad = round(PAD_SECONDS * PCM_RATE)
    assert turns.speech_starts == 2
    assert len(stt.given) == 2
    for given in stt.given:
        assert 0.8 * len(said) < len(given) <= len(said) + 2 * pad
    said_ms = len(said) * 1000 // PCM_RATE
    (_, first_start, first_end), (_, second_start, _) = turns.heard
    assert 1000 - PAD_SECONDS * 1000 <= first_start <= 1000  # from just before the speech
    assert first_end <= 1000 + said_ms + PAD_SECONDS * 1000  # to just after it
    assert second_start >= 1000 + said_ms + 3000 - PAD_SECONDS * 1000


async def test_speech_cut_from_a_stream_is_still_transcribed():
    said = speak("what time do you open on saturday", voice=VOICE)
    turns = Turns(PocketsphinxSpeechToText())

    await turns.say(np.concatenate([silence(0.6), said, silence(1.0)]))
    await turns.turns.close()

    [(text, _, _)] = turns.heard
    assert {"open", "saturday"} <= set(text.split()), text


async def test_a_saturated_recognizer_drops_the_oldest_segments_and_never_holds_the_audio(caplog):
    gate = asyncio.Event()  # the recognizer is stuck until it is set
    stt = RecordingSpeechToText(gate)
    turns = Turns(stt)
    durations = [0.3 + 0.1 * index for index in range(8)]  # tell the segments apart

    with caplog.at_level(logging.WARNING, logger="voice.call.caller_turns"):
        async with asyncio.timeout(60):  # feeding never waits for the recognizer
            for seconds in durations:
                await turns.say(
                    np.concatenate([silence(0.3), tone(440, seconds, amplitude=0.4), silence(0.8)])
                )
        assert turns.speech_starts == 8
        assert len(stt.given) == 1  # the first is being transcribed, the rest wait or were dropped
        gate.set()
        await turns.turns.close()

    # The first was under way; of the seven after it, the queue kept the newest four.
    assert turns.turns.dropped == 3
    assert [text for text, _, _ in turns.heard] == ["0.3 s", "0.7 s", "0.8 s", "0.9 s", "1.0 s"]
    dropped = [r for r in caplog.records if "dropped untranscribed" in r.getMessage()]
    assert len(dropped) == 3


async def test_with_no_speech_to_text_only_the_speech_onsets_are_looked_for():
    turns = Turns(speech_to_text("none"))

    await turns.say(np.concatenate([silence(0.3), tone(440, 1.0, amplitude=0.4), silence(1.0)]))
    await turns.say(np.concatenate([tone(440, 1.0, amplitude=0.4), silence(0.2)]))
    await turns.turns.close()

    assert turns.speech_starts == 2  # barge-in still hears the caller
    assert turns.heard == []
