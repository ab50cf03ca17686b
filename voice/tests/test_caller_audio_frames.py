"""The caller's first audio is aligned to its frames, so the voice engine's frames never wait."""

import asyncio

import numpy as np
import pytest

from voice.audio.base import CallerAudio
from voice.call.caller_audio import CallerAudioIn

pytestmark = pytest.mark.asyncio


class ShortFirstDecoder:
    """Like an Opus decoder: 40 ms per frame, but the first short by the codec's pre-skip."""

    def __init__(self) -> None:
        self._first = True

    def decode(self, data: bytes) -> CallerAudio:
        size, self._first = (788 if self._first else 960), False
        return CallerAudio.at_24k(np.full(size, 1000, dtype=np.int16))

    def close(self) -> None:
        pass


async def test_a_short_first_frame_gets_silence_in_front_and_every_frame_is_whole():
    heard: list[np.ndarray] = []

    async def hear(audio: CallerAudio, received_at: float) -> None:
        assert audio.speech is audio.pcm
        heard.append(audio.pcm)

    async def send_json(message: dict) -> None:
        raise AssertionError(f"unexpected {message}")

    audio_in = CallerAudioIn(
        call_id="c",
        decoder=ShortFirstDecoder(),
        hear=hear,
        send_json=send_json,
        end_call=lambda reason: None,
        frame_ms=40,
    )
    audio_in.start()
    for _ in range(3):
        audio_in.put(b"frame", 0.0)
    await asyncio.wait_for(audio_in.close(), 5)

    assert [len(pcm) for pcm in heard] == [960, 960, 960]
    assert not heard[0][:172].any() and (heard[0][172:] == 1000).all()
