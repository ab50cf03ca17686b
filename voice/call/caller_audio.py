"""Caller audio in: a bounded queue of the caller's frames, decoded in order, bad audio handled.

Frames wait in a queue of their own, so control messages (text, end, ping) never wait behind
audio; when the server falls more than `BACKLOG_SECONDS` behind (counted in frames of the length
the caller declared), the oldest frame is dropped and counted, and a hang-up drops every frame
still queued (`drop_queued`). Each frame is decoded (`CallerAudio`: PCM24k, and the speech as
sent when it can be) and handed on with the time it reached the call (the bridge's uplink
latency counts from there). Undecodable audio is reported as `bad_audio` at most once every
`BAD_AUDIO_REPORT_SECONDS`; after `BAD_AUDIO_END_SECONDS` of nothing else the call is asked to
end. One failing frame is logged and the call keeps listening.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from voice.audio.base import PCM_RATE, AudioDecodeError, CallerAudio
from voice.audio.call_decoder import CallerAudioDecoder
from voice.call.protocol import DEFAULT_FRAME_MS, Message, error_message
from voice.models import EndReason
from voice.recording.recorder import CallRecorder

logger = logging.getLogger(__name__)

BACKLOG_SECONDS = 2.0  # caller audio waiting to be heard
DRAIN_SECONDS = 2.0  # at the end, how long the frames already received may take
BAD_AUDIO_REPORT_SECONDS = 1.0  # at most one `bad_audio` error a second
BAD_AUDIO_END_SECONDS = 5.0  # undecodable audio for this long ends the call

Hear = Callable[[CallerAudio, float], Awaitable[None]]  # decoded audio, when its frame came


def backlog_frames(frame_ms: int) -> int:
    """How many caller frames of `frame_ms` wait at most: `BACKLOG_SECONDS` of audio."""
    return round(BACKLOG_SECONDS * 1000 / frame_ms)


class CallerAudioIn:
    def __init__(
        self,
        *,
        call_id: str,
        decoder: CallerAudioDecoder,
        hear: Hear,
        send_json: Callable[[Message], Awaitable[None]],
        end_call: Callable[[EndReason], None],
        recorder: CallRecorder | None = None,
        frame_ms: int = DEFAULT_FRAME_MS,
    ) -> None:
        self._call_id = call_id
        self._decoder = decoder
        self._hear = hear
        self._send_json = send_json
        self._end_call = end_call
        self._recorder = recorder
        self._queue: asyncio.Queue[tuple[bytes, float] | None] = asyncio.Queue(
            backlog_frames(frame_ms)
        )
        self._frame_samples = PCM_RATE * frame_ms // 1000
        self._aligned = False
        self._task: asyncio.Task | None = None
        self._bad_since: float | None = None
        self._bad_reported = 0.0
        self.frames_dropped = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._decode_all(), name=f"hear-{self._call_id}")

    def put(self, data: bytes, received_at: float) -> None:
        """Queue a frame of caller audio, received at `received_at` (`time.perf_counter()`)."""
        self._put((data, received_at))

    def _put(self, item: tuple[bytes, float] | None) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.frames_dropped += 1
        self._queue.put_nowait(item)

    def drop_queued(self) -> None:
        """Drop (and count) every frame not yet heard: the caller hung up after them."""
        while not self._queue.empty():
            self._queue.get_nowait()
            self.frames_dropped += 1

    async def close(self) -> None:
        """Hear out the frames already received (for at most `DRAIN_SECONDS`), then stop."""
        if self._task is not None:
            self._put(None)
            try:
                await asyncio.wait_for(self._task, DRAIN_SECONDS)
            except TimeoutError:
                logger.warning("call %s: caller audio still queued was dropped", self._call_id)
        self._decoder.close()

    async def _decode_all(self) -> None:
        while (item := await self._queue.get()) is not None:
            try:
                await self._decode(*item)
            except Exception:  # one bad frame must not deafen the rest of the call
                logger.exception("call %s: a frame of caller audio failed", self._call_id)

    async def _decode(self, data: bytes, received_at: float) -> None:
        try:
            audio = self._decoder.decode(data)
        except AudioDecodeError as error:
            await self._bad_audio(error)
            return
        self._bad_since = None
        if len(audio.pcm):
            audio = self._frame_aligned(audio)
            if self._recorder is not None:
                self._recorder.caller_audio(audio.pcm, received_at)
            await self._hear(audio, received_at)

    def _frame_aligned(self, audio: CallerAudio) -> CallerAudio:
        """The first audio with silence in front to a whole number of the caller's frames.

        A decoder's first output can be short (an Opus decoder drops the codec's pre-skip): the
        frames after it would then each end partway through one of the voice engine's frames,
        and every one would wait in its encoder for the next. Aligned once, they never wait.
        """
        if self._aligned:
            return audio
        self._aligned = True
        short = -len(audio.pcm) % self._frame_samples
        return audio.after_silence(short) if short else audio

    async def _bad_audio(self, error: AudioDecodeError) -> None:
        now = time.monotonic()
        self._bad_since = self._bad_since or now
        if now - self._bad_since >= BAD_AUDIO_END_SECONDS:
            self._end_call(EndReason.BAD_AUDIO)
        elif now - self._bad_reported >= BAD_AUDIO_REPORT_SECONDS:
            self._bad_reported = now
            await self._send_json(error_message(error))
