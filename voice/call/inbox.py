"""A call's socket, read so that the caller's control messages overtake its audio.

The ASGI server queues every frame a caller sends, in order, and Channels hands the consumer one
per turn of the event loop: behind a backlog of audio, the caller's `end` would wait for every
frame sent before it. `audio_taken_at_once` reads the socket for the consumer instead: each read
takes every audio frame already queued, at once (without yielding to the loop), to `take` (the
call's caller-audio stage: a bounded queue whose oldest frame goes when it is full), and returns
the first other message, or a frame `take` declined, to be dispatched as usual.
"""

from collections.abc import Callable

from asgiref.typing import ASGIReceiveCallable, ASGIReceiveEvent

TakeAudio = Callable[[bytes], bool]  # a frame of caller audio: True when taken


def audio_taken_at_once(receive: ASGIReceiveCallable, take: TakeAudio) -> ASGIReceiveCallable:
    """`receive` (ASGI), each caller audio frame passed to `take` on the way."""

    async def receive_past_audio() -> ASGIReceiveEvent:
        while True:
            message = await receive()
            audio = message.get("bytes") if message["type"] == "websocket.receive" else None
            if audio is None or not take(audio):
                return message

    return receive_past_audio
