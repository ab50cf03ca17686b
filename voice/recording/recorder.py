"""A voice call's recording, made as the call goes, when its tenant records calls.

The call hands the recorder what the caller sent (decoded, with the time its frame arrived) and
what the agent said to the caller (after barge-in's gate, so what the caller heard), and tells
it of barge-ins. Every call is cheap on the event loop: audio is placed on the call's timeline
(`CallMix`), and blocks of at least `BLOCK_SAMPLES` are handed to the writer's own thread
(`OpusFileWriter`). A recorder that fails stops recording and says so in the log; the call goes
on, never waiting for it. When the call has ended, the file, as long as the call, goes into
storage as `Call.recording` and the local file is removed.
"""

import asyncio
import logging
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np

from tenants_app.models import Tenant
from voice.audio.base import PCM_RATE
from voice.call.clock import CallClock
from voice.models import CallMode
from voice.recording.mixing import HOLD_SAMPLES, CallMix
from voice.recording.storage import call_recording_store
from voice.recording.writer import OpusFileWriter

logger = logging.getLogger(__name__)

BLOCK_SAMPLES = PCM_RATE // 2  # the writer gets half a second or more at a time
STORE_SECONDS = 120.0  # how long handing the file to storage may take at the end
_SAMPLES_PER_MS = PCM_RATE // 1000

Store = Callable[..., Awaitable[str | None]]  # `call_recording_store`: the file into storage


def recording_wanted(*, tenant: Tenant, mode: CallMode) -> bool:
    """Whether a call is recorded: a voice call of a tenant that records calls."""
    return mode == CallMode.VOICE and tenant.recording_enabled


class CallRecorder:
    def __init__(
        self,
        *,
        schema_name: str,
        call_id: str,
        clock: CallClock,
        store: Store = call_recording_store,
    ) -> None:
        self._schema_name = schema_name
        self._store = store
        self._call_id = call_id
        self._clock = clock
        self._mix = CallMix()
        descriptor, path = tempfile.mkstemp(prefix=f"nexus-call-{call_id}-", suffix=".ogg")
        os.close(descriptor)
        self._writer = OpusFileWriter(Path(path))
        self.recording = True

    def caller_audio(self, pcm: np.ndarray, received_at: float) -> None:
        """The caller's decoded audio, whose frame reached the call at `received_at`
        (`time.perf_counter()`)."""
        if self.recording:
            late = int((time.perf_counter() - received_at) * PCM_RATE)  # samples ago
            self._guarded(lambda now: self._mix.caller(pcm, arrived=now - late))

    def agent_audio(self, pcm: np.ndarray) -> None:
        """The agent's audio, as it goes to the caller now."""
        if self.recording:
            self._guarded(lambda now: self._mix.agent(pcm, now=now))

    def agent_cut(self) -> None:
        """The caller barged in: what the agent's audio would still have played is dropped."""
        if self.recording:
            self._guarded(lambda now: self._mix.agent_cut(now=now))

    async def close(self) -> None:
        """The call has ended: finish the file, up to now, and store it as the call's
        recording."""
        try:
            if self.recording:
                self.recording = False
                self._writer.write(*self._mix.take(self._now()))
                await self._writer.finish()
                size = self._writer.path.stat().st_size
                storing = self._store(
                    schema_name=self._schema_name, call_id=self._call_id, path=self._writer.path
                )
                name = await asyncio.wait_for(storing, STORE_SECONDS)
                logger.info("call recorded: %s (%d bytes)", name, size)
        except Exception:
            logger.exception("call %s: the recording could not be stored", self._call_id)
        finally:
            await asyncio.to_thread(self._writer.discard)

    def _now(self) -> int:
        return self._clock.ms() * _SAMPLES_PER_MS

    def _guarded(self, place: Callable[[int], None]) -> None:
        """Place audio at the call's time now (`place(now)`), and hand on what is due; on any
        failure, stop recording."""
        try:
            now = self._now()
            place(now)
            due = now - HOLD_SAMPLES
            if due - self._mix.taken >= BLOCK_SAMPLES:
                self._writer.write(*self._mix.take(due))
            if self._writer.failed is not None:
                raise self._writer.failed
        except Exception:
            logger.exception("call %s: recording stopped, the call goes on", self._call_id)
            self.recording = False
