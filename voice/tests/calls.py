"""Helpers for call tests: sidecar emulators as the pool, and a caller's audio at real-time pace."""

import asyncio
import contextlib

import numpy as np
from django.test import override_settings

from voice.sidecar.emulator import EmulatorConfig, running_emulator

FAST_LOAD = EmulatorConfig(load_base_seconds=0.05, load_per_word_seconds=0.0)


@contextlib.asynccontextmanager
async def sidecars(count: int = 1, config: EmulatorConfig = FAST_LOAD, **overrides):
    """`count` emulators on real ports, configured as the sidecar pool."""
    async with contextlib.AsyncExitStack() as stack:
        urls = [await stack.enter_async_context(running_emulator(config)) for _ in range(count)]
        settings = {"PERSONAPLEX_URLS": urls, "PERSONAPLEX_RETRY_INITIAL": 0.2, **overrides}
        with override_settings(**settings):
            yield urls


async def stream_realtime(caller, chunks: list[bytes], seconds_per_chunk: float) -> None:
    """Send chunks at real-time pace, as a microphone would."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for index, chunk in enumerate(chunks):
        await caller.send_audio(chunk)
        await asyncio.sleep(max(0.0, start + (index + 1) * seconds_per_chunk - loop.time()))


def pcm16_chunks(pcm: np.ndarray, rate: int, ms: int = 20) -> list[bytes]:
    step = rate * ms // 1000
    return [pcm[i : i + step].tobytes() for i in range(0, len(pcm), step)]


def agent_audio(caller) -> np.ndarray:
    return np.frombuffer(b"".join(caller.audio), dtype=np.int16)
