"""The call's socket read past its audio: every frame goes to the call with its arrival time."""

import time
from typing import Any

import pytest

from voice.call.inbox import audio_taken_at_once

pytestmark = pytest.mark.asyncio


class Socket:
    """The events of an ASGI WebSocket, in order; the frames the call took."""

    def __init__(self, events: list[dict[str, Any]], *, take: bool = True) -> None:
        self.events = events
        self.taken: list[tuple[bytes, float]] = []
        self._take = take

    async def receive(self) -> Any:
        return self.events.pop(0)

    def take(self, data: bytes, received_at: float) -> bool:
        if self._take:
            self.taken.append((data, received_at))
        return self._take

    async def read(self) -> dict[str, Any]:
        return dict(await audio_taken_at_once(self.receive, self.take)())


async def test_frames_go_with_the_servers_arrival_stamp_or_now_when_it_has_none():
    socket = Socket(
        [
            {"type": "websocket.receive", "bytes": b"a", "received_at": 12.5},
            {"type": "websocket.receive", "bytes": b"b"},
            {"type": "websocket.receive", "text": '{"type": "end"}'},
        ]
    )
    before = time.perf_counter()

    message = await socket.read()

    assert message["text"] == '{"type": "end"}'
    assert socket.taken[0] == (b"a", 12.5)
    assert socket.taken[1][0] == b"b"
    assert before <= socket.taken[1][1] <= time.perf_counter()


async def test_a_frame_the_call_declines_is_returned_to_be_dispatched():
    socket = Socket([{"type": "websocket.receive", "bytes": b"a", "received_at": 1.0}], take=False)

    message = await socket.read()

    assert message["bytes"] == b"a"
    assert socket.taken == []
