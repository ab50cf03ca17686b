"""The call's voice path: a leased PersonaPlex sidecar, audio both ways, fallback and retry.

One `VoicePath` per call. It leases a sidecar from the pool, opens the link (nothing is sent
before the handshake), then streams: the caller's audio is encoded to one Ogg/Opus stream per
sidecar session, kept continuous at real-time pace with silence (the sidecar only steps on
input); the sidecar's pages are decoded and handed to the session with its word pieces. When the
sidecar is busy, unreachable, slow to hand-shake or drops, the session is told and the path
retries with backoff until the call ends.
"""

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from voice.audio.base import PCM_RATE
from voice.audio.formats import OggOpusStreamDecoder, OggOpusStreamEncoder
from voice.call.latency import LatencyStats
from voice.call.protocol import ModeReason
from voice.sidecar.errors import SidecarError
from voice.sidecar.link import AgentAudioPage, SidecarLink
from voice.sidecar.pool import SidecarLease, SidecarPool

logger = logging.getLogger(__name__)

FRAME_SAMPLES = PCM_RATE // 50  # 20 ms, the Opus frame the encoder uses
PACE_SLACK_SECONDS = 0.06  # how far the stream may lag real time before silence fills it
CALLER_QUIET_SECONDS = 0.2  # no caller audio for this long: the caller is quiet, not late
MAX_FILL_SECONDS = 1.0


@dataclass(frozen=True)
class SidecarSettings:
    urls: tuple[str, ...]
    handshake_timeout: float = 30.0
    ca_file: str | None = None
    retry_initial: float = 1.0
    retry_max: float = 30.0
    lease_ttl: float = 30.0


class VoicePathListener(Protocol):
    """What the voice path tells its call."""

    async def ready(self) -> None:
        """The sidecar hand-shook: caller audio is being heard."""

    async def unavailable(self, reason: ModeReason) -> None:
        """No voice now (busy, unreachable, dropped); the path retries in the background."""

    async def agent_audio(self, pcm: np.ndarray) -> None:
        """The agent's decoded audio (PCM24k), silence included."""

    async def agent_text(self, piece: str) -> None:
        """A piece of the agent's own words."""


class VoicePath:
    def __init__(
        self,
        *,
        call_id: str,
        voice_id: str,
        text_prompt: str,
        pool: SidecarPool,
        settings: SidecarSettings,
        listener: VoicePathListener,
    ) -> None:
        self._call_id = call_id
        self._voice_id = voice_id
        self._text_prompt = text_prompt
        self._pool = pool
        self._settings = settings
        self._listener = listener
        self._link: SidecarLink | None = None
        self._encoder: OggOpusStreamEncoder | None = None
        self._stream_start = 0.0
        self._stream_samples = 0
        self._caller_audio_at = 0.0
        self.uplink_latency = LatencyStats()
        self.downlink_latency = LatencyStats()

    async def run(self) -> None:
        """Serve the call's voice until cancelled: connect, stream, fall back, retry."""
        delay = self._settings.retry_initial
        while True:
            lease = await self._pool.lease(self._call_id)
            if lease is None:
                await self._listener.unavailable(ModeReason.SIDECAR_BUSY)
            else:
                try:
                    link = await SidecarLink.open(
                        lease.url,
                        voice_id=self._voice_id,
                        text_prompt=self._text_prompt,
                        handshake_timeout=self._settings.handshake_timeout,
                        ca_file=self._settings.ca_file,
                    )
                except SidecarError as error:
                    logger.info(
                        "call %s: sidecar %s unavailable: %s", self._call_id, lease.url, error
                    )
                    await lease.release()
                    await self._listener.unavailable(ModeReason.SIDECAR_UNAVAILABLE)
                except ValueError:
                    logger.exception("call %s: the persona cannot be voiced", self._call_id)
                    await lease.release()
                    await self._listener.unavailable(ModeReason.SIDECAR_UNAVAILABLE)
                    return  # retrying cannot help: the persona's voice settings are wrong
                else:
                    await self._serve(link, lease)
                    delay = self._settings.retry_initial
                    await self._listener.unavailable(ModeReason.SIDECAR_UNAVAILABLE)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._settings.retry_max)

    async def _serve(self, link: SidecarLink, lease: SidecarLease) -> None:
        self._encoder, self._stream_samples = OggOpusStreamEncoder(), 0
        self._stream_start = time.monotonic()
        self._link = link
        tasks = [
            asyncio.create_task(self._receive(link), name=f"sidecar-in-{self._call_id}"),
            asyncio.create_task(self._pace(), name=f"sidecar-pace-{self._call_id}"),
            asyncio.create_task(self._keep_lease(lease), name=f"sidecar-lease-{self._call_id}"),
        ]
        try:
            await self._listener.ready()
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._link = None
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await link.close()
            await asyncio.shield(lease.release())

    async def caller_audio(self, pcm: np.ndarray, *, received_at: float) -> None:
        """Send the caller's audio (PCM24k) to the sidecar at once, if the voice path is live.

        `received_at` (`time.perf_counter()`) is when its frame reached the call: the uplink
        latency covers decoding it too.
        """
        self._caller_audio_at = time.monotonic()
        if self._link is None:
            return
        await self._send(pcm)
        self.uplink_latency.add(time.perf_counter() - received_at)

    async def _send(self, pcm: np.ndarray) -> None:
        link, encoder = self._link, self._encoder
        if link is None or encoder is None:
            return
        self._stream_samples += len(pcm)
        for page in encoder.encode(pcm):
            await link.send_audio(page)

    async def _pace(self) -> None:
        """Fill the stream with silence while the caller sends nothing (muted, typing, a gap).

        Only a quiet caller is filled in: audio that is merely late (a busy server, a slow
        network) is still on its way, and silence on top of it would add work when there is
        least time for it. A backlog over `MAX_FILL_SECONDS` is dropped, not encoded: the
        sidecar runs on what it receives, not on the clock.
        """
        silence = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        while True:
            now = time.monotonic()
            if now - self._caller_audio_at >= CALLER_QUIET_SECONDS:
                due = (now - self._stream_start - PACE_SLACK_SECONDS) * PCM_RATE
                backlog = due - self._stream_samples
                if backlog > MAX_FILL_SECONDS * PCM_RATE:
                    self._stream_start += (backlog - FRAME_SAMPLES) / PCM_RATE
                while self._stream_samples + FRAME_SAMPLES <= due:
                    await self._send(silence)
            await asyncio.sleep(FRAME_SAMPLES / PCM_RATE)

    async def _receive(self, link: SidecarLink) -> None:
        decoder = OggOpusStreamDecoder()
        try:
            async for event in link.events():
                if isinstance(event, AgentAudioPage):
                    started = time.perf_counter()
                    pcm = decoder.decode(event.ogg)
                    if len(pcm):
                        await self._listener.agent_audio(pcm)
                        self.downlink_latency.add(time.perf_counter() - started)
                else:
                    await self._listener.agent_text(event.text)
        except SidecarError as error:
            logger.info("call %s: sidecar link ended: %s", self._call_id, error)
        finally:
            decoder.close()

    async def _keep_lease(self, lease: SidecarLease) -> None:
        renewed = True
        while renewed:
            await asyncio.sleep(self._settings.lease_ttl / 3)
            renewed = await lease.renew()
        logger.warning("call %s: sidecar lease on %s was lost", self._call_id, lease.url)
