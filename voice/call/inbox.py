"""A call's socket, read so that the caller's control messages overtake its audio.

The ASGI server queues every frame a caller sends, in order, and Channels hands the consumer one
per turn of the event loop: behind a backlog of audio, the caller's `end` would wait for every
frame sent before it. `audio_taken_at_once` reads the socket for the consumer instead: each read
takes every audio frame already queued, at once (without yielding to the loop), to `take` (the
call's caller-audio stage: a bounded queue whose oldest frame goes when it is full), and returns
the first other message, or a frame `take` declined, to be dispatched as usual. Each frame goes
with the `time.perf_counter()` of its arrival: the server's stamp (`received_at`, set by
`nexus_project.serve`), or now when the event has none.
"""

import time
from collections.abc import Callable
from typing import Any, cast

from asgiref.typing import ASGIReceiveCallable, ASGIReceiveEvent

TakeAudio = Callable[[bytes, float], bool]  # caller audio, when it arrived: True when taken


def audio_taken_at_once(receive: ASGIReceiveCallable, take: TakeAudio) -> ASGIReceiveCallable:
    """`receive` (ASGI), each caller audio frame passed to `take` on the way."""

    async def receive_past_audio() -> ASGIReceiveEvent:
        while True:
            message = await receive()
            audio = message.get("bytes") if message["type"] == "websocket.receive" else None
            if audio is None or not take(audio, _arrival(message)):
                return message

    return receive_past_audio


def _arrival(message: ASGIReceiveEvent) -> float:
    """When the server received `message` (`time.perf_counter()`), or now if it did not say."""
    stamp = cast(dict[str, Any], message).get("received_at")
    return stamp if stamp is not None else time.perf_counter()
