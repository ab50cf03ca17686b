"""Helpers for recording tests: a tenant that records calls, and a recording decoded."""

import asyncio
import contextlib
import io
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import av
import numpy as np
from channels.db import database_sync_to_async

from bench.signals import dominant_frequency
from tenants_app.db import tenant_schema
from tenants_app.models import Tenant
from voice.audio.base import PCM_RATE, PcmResampler, level_dbfs
from voice.models import Call, CallStatus
from voice.recording.storage import recording_storage


@database_sync_to_async
def _recording_set(slug: str, enabled: bool) -> None:
    """Turn `slug`'s recordings on or off, as its admin would (committed)."""
    tenant = Tenant.objects.get(slug=slug)
    tenant.recording_enabled = enabled
    tenant.save(update_fields=["recording_enabled"])


@contextlib.asynccontextmanager
async def recording_calls(slug: str) -> AsyncIterator[None]:
    """`slug` records its calls meanwhile."""
    await _recording_set(slug, True)
    try:
        yield
    finally:
        await _recording_set(slug, False)


@database_sync_to_async
def _call_row(slug: str, call_id: str) -> Call | None:
    with tenant_schema(Tenant.objects.get(slug=slug).schema_name):
        return Call.objects.filter(pk=call_id).first()


async def recorded_call_wait(slug: str, call_id: str, timeout: float = 60) -> Call | None:
    """The call's row once it ended and its recording is stored (or `timeout` is over)."""
    deadline = time.monotonic() + timeout
    while True:  # polling: the recording is stored after the call's row is closed
        row = await _call_row(slug, call_id)
        done = row is not None and row.status == CallStatus.ENDED and bool(row.recording)
        if done or time.monotonic() > deadline:
            return row
        await asyncio.sleep(0.1)


@dataclass(frozen=True)
class Decoded:
    """A recording decoded to PCM24k, and the length its Ogg stream declares."""

    pcm: np.ndarray
    declared_seconds: float

    @property
    def seconds(self) -> float:
        return len(self.pcm) / PCM_RATE

    def part(self, start: float, end: float) -> np.ndarray:
        return self.pcm[max(int(start * PCM_RATE), 0) : int(end * PCM_RATE)]

    def level(self, start: float, end: float) -> float:
        return level_dbfs(self.part(start, end))

    def frequency(self, start: float, end: float) -> float:
        return dominant_frequency(self.part(start, end))

    def onset(self, after: float, dbfs: float = -30.0) -> float | None:
        """When the first 20 ms louder than `dbfs` starts, from `after` on (seconds)."""
        step = PCM_RATE // 50
        for start in range(int(after * PCM_RATE), len(self.pcm) - step, step):
            if level_dbfs(self.pcm[start : start + step]) > dbfs:
                return start / PCM_RATE
        return None

    def likeness(self, pcm: np.ndarray, near: float, within: float = 0.3) -> float:
        """How alike `pcm` and the recording's audio are in loudness over time (the correlation
        of their 10 ms levels), `pcm` placed where it fits best within `within` s of `near`."""
        heard = _loudness(pcm)
        recorded = _loudness(self.part(near - within, near + within + len(pcm) / PCM_RATE))
        return max(
            float(np.corrcoef(heard, recorded[lag : lag + len(heard)])[0, 1])
            for lag in range(min(len(recorded) - len(heard), 2 * round(within * 100)) + 1)
        )


def _loudness(pcm: np.ndarray) -> np.ndarray:
    """The RMS of each 10 ms of `pcm`."""
    step = PCM_RATE // 100
    blocks = pcm[: len(pcm) // step * step].astype(np.float64).reshape(-1, step)
    return np.sqrt((blocks**2).mean(axis=1))


def decode(data_or_name: bytes | str) -> Decoded:
    """Decode a recording with PyAV: bytes, or the name of one in the recordings' storage."""
    if isinstance(data_or_name, str):
        with recording_storage().open(data_or_name, "rb") as file:
            data = file.read()
    else:
        data = data_or_name
    resampler = PcmResampler()
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        parts = [resampler.convert(frame) for frame in container.decode(stream)]
        declared = float(stream.duration * stream.time_base) if stream.duration else 0.0
    return Decoded(np.concatenate([*parts, resampler.convert(None)]), declared)
