"""The `nvidia_personaplex` engine: a leased PersonaPlex sidecar, audio both ways, and retry.

One engine per call. It leases a sidecar session from the pool, opens the link (nothing is sent
before the handshake), then streams: the caller's audio is encoded to one Ogg/Opus stream per
sidecar session, sent a model step at a time (`voice.sidecar.steps`) and kept continuous at
real-time pace with silence (the sidecar only steps on input); the sidecar's pages are decoded
and handed to the call with its word pieces. PersonaPlex neither transcribes the caller nor
calls tools: the call's speech-to-text hears the caller (`CallerTurns`) and the text agent
supervises beside the voice (`acts` is False). When the sidecar is busy, unreachable, still
loading, slow to hand-shake or drops, the call is told and the engine retries with backoff until
the call ends; a busy pool is tried again as soon as any lease is released.
"""

import asyncio
import logging
import time
from dataclasses import dataclass

import numpy as np
from redis.exceptions import RedisError

from nexus_project.metrics import BRIDGE_LATENCY
from voice.audio.base import PCM_RATE, CallerAudio
from voice.audio.formats import OggOpusStreamDecoder, OggOpusStreamEncoder
from voice.call.caller_turns import CallerTurns
from voice.call.latency import LatencyStats
from voice.call.protocol import DEFAULT_FRAME_MS, ModeReason
from voice.engines.base import EngineListener, EngineName, EnginePersona
from voice.sidecar.errors import SidecarError
from voice.sidecar.link import AgentAudioPage, SidecarLink
from voice.sidecar.pool import SidecarEntry, SidecarLease, SidecarPool
from voice.sidecar.steps import StepBatch

logger = logging.getLogger(__name__)

# The sidecar's input is encoded at this libopus complexity, as PersonaPlex's own browser client
# encodes the microphone: a speech model listens, not a person. In 40 ms frames it costs 0.09
# CPU-s per minute of audio, against 0.16 at complexity 5 and 0.23 at the best quality (10).
SIDECAR_COMPLEXITY = 0
PACE_SLACK_SECONDS = 0.06  # how far the stream may lag real time before silence fills it
CALLER_QUIET_SECONDS = 0.2  # no caller audio for this long: the caller is quiet, not late
MAX_FILL_SECONDS = 1.0


@dataclass(frozen=True)
class SidecarSettings:
    entries: tuple[SidecarEntry, ...]
    handshake_timeout: float = 30.0
    ca_file: str | None = None
    retry_initial: float = 1.0
    retry_max: float = 30.0
    lease_ttl: float = 30.0
    loading_grace: float = 3.0  # a sidecar still loading after this: serve in text meanwhile


class PersonaPlexEngine:
    name = EngineName.PERSONAPLEX
    acts = False

    def __init__(
        self,
        *,
        persona: EnginePersona,
        pool: SidecarPool,
        settings: SidecarSettings,
        listener: EngineListener,
        caller_turns: CallerTurns,
        frame_ms: int = DEFAULT_FRAME_MS,
    ) -> None:
        self._call_id = persona.call_id
        self._frame_ms = frame_ms  # the caller's frames: the sidecar gets Opus frames as long
        self._voice_id = persona.voice_id
        self._text_prompt = persona.text_prompt
        self._pool = pool
        self._settings = settings
        self._listener = listener
        self._caller_turns = caller_turns
        self._link: SidecarLink | None = None
        self._encoder: OggOpusStreamEncoder | None = None
        self._steps = StepBatch()
        self._stream_start = 0.0
        self._stream_samples = 0
        self._caller_audio_at = 0.0
        self.uplink_latency = LatencyStats(BRIDGE_LATENCY.labels("uplink"))
        self.downlink_latency = LatencyStats(BRIDGE_LATENCY.labels("downlink"))

    async def run(self) -> None:
        """Serve the call's voice until cancelled: lease, connect, stream; fall back, retry.

        The lease is released on every way out of it, cancellation included, at once.
        """
        delay = self._settings.retry_initial
        while True:
            lease = await self._lease()
            if lease is None:
                await self._listener.unavailable(ModeReason.SIDECAR_BUSY)
                await self._pool.wait_for_release(delay)
            else:
                try:
                    served = await self._voice_on(lease)
                finally:
                    await asyncio.shield(lease.release())
                await self._listener.unavailable(ModeReason.SIDECAR_UNAVAILABLE)
                if served is None:
                    return  # retrying cannot help: the persona's voice settings are wrong
                if served:
                    delay = self._settings.retry_initial
                await asyncio.sleep(delay)
            delay = min(delay * 2, self._settings.retry_max)

    async def _lease(self) -> SidecarLease | None:
        try:
            return await self._pool.lease(self._call_id)
        except RedisError as error:
            logger.warning("call %s: no sidecar lease without Redis (%s)", self._call_id, error)
            return None

    async def _voice_on(self, lease: SidecarLease) -> bool | None:
        """Connect to the leased sidecar and stream until the link ends; whether it served
        (None: the persona cannot be voiced). The lease is kept alive all along."""
        keeper = asyncio.create_task(self._keep_lease(lease), name=f"lease-{self._call_id}")
        try:
            try:
                link = await self._open(lease.url)
            except SidecarError as error:
                logger.info("call %s: sidecar %s unavailable: %s", self._call_id, lease.url, error)
                return False
            except ValueError:
                logger.exception("call %s: the persona cannot be voiced", self._call_id)
                return None
            try:
                await self._serve(link, keeper)
            finally:
                await link.close()
            return True
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)

    async def _open(self, url: str) -> SidecarLink:
        """Open the link; if the sidecar is still loading after the grace, the caller is served
        in text meanwhile (`sidecar_loading`), and moves to voice at the handshake."""
        opening = asyncio.create_task(
            SidecarLink.open(
                url,
                voice_id=self._voice_id,
                text_prompt=self._text_prompt,
                handshake_timeout=self._settings.handshake_timeout,
                ca_file=self._settings.ca_file,
            ),
            name=f"sidecar-open-{self._call_id}",
        )
        try:
            done, _ = await asyncio.wait([opening], timeout=self._settings.loading_grace)
            if not done:
                await self._listener.unavailable(ModeReason.SIDECAR_LOADING)
            return await opening
        except asyncio.CancelledError:  # the call ended meanwhile: the link must not outlive it
            opening.cancel()
            opening.add_done_callback(_close_unused)
            raise

    async def _serve(self, link: SidecarLink, keeper: asyncio.Task) -> None:
        """Stream both ways until the link ends, or the lease is lost."""
        self._encoder = OggOpusStreamEncoder(frame_ms=self._frame_ms, complexity=SIDECAR_COMPLEXITY)
        self._steps = StepBatch()
        self._stream_samples = 0
        self._stream_start = time.monotonic()
        self._link = link
        tasks = [
            asyncio.create_task(self._receive(link), name=f"sidecar-in-{self._call_id}"),
            asyncio.create_task(self._pace(), name=f"sidecar-pace-{self._call_id}"),
        ]
        try:
            await self._listener.ready(self.name)
            await asyncio.wait([*tasks, keeper], return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._link = None
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def caller_audio(self, audio: CallerAudio, *, received_at: float) -> None:
        """Send the caller's PCM24k to the sidecar, if it is live, as soon as it completes a model
        step (`voice.sidecar.steps`), and their audio to the call's speech-to-text.

        `received_at` (`time.perf_counter()`) is when its frame reached the call: the uplink
        latency, from there to the sidecar, covers decoding it too. It is taken for the frames
        that complete a step: the sidecar could not step before they came.
        """
        self._caller_audio_at = time.monotonic()
        if self._link is not None and await self._send(audio.pcm):
            self.uplink_latency.add(time.perf_counter() - received_at)
        await self._caller_turns.audio(audio)

    async def close(self) -> None:
        await self._caller_turns.close()

    def latency(self) -> dict[str, object]:
        return {
            "uplink_latency": self.uplink_latency.summary(),
            "downlink_latency": self.downlink_latency.summary(),
        }

    async def _send(self, pcm: np.ndarray) -> bool:
        """Encode `pcm` into the stream; whether a step's pages went to the sidecar."""
        link, encoder = self._link, self._encoder
        if link is None or encoder is None:
            return False
        self._stream_samples += len(pcm)
        step = self._steps.add(encoder.encode(pcm), encoder.encoded_samples)
        if step is not None:
            await link.send_audio(step)
        return step is not None

    async def _pace(self) -> None:
        """Fill the stream with silence while the caller sends nothing (muted, typing, a gap).

        Only a quiet caller is filled in: audio that is merely late (a busy server, a slow
        network) is still on its way, and silence on top of it would add work when there is
        least time for it. A backlog over `MAX_FILL_SECONDS` is dropped, not encoded: the
        sidecar runs on what it receives, not on the clock. While the caller's audio flows, it
        wakes only when the caller could have fallen quiet.
        """
        frame = PCM_RATE * self._frame_ms // 1000
        silence = np.zeros(frame, dtype=np.int16)
        while True:
            now = time.monotonic()
            quiet_from = self._caller_audio_at + CALLER_QUIET_SECONDS
            if now >= quiet_from:
                due = (now - self._stream_start - PACE_SLACK_SECONDS) * PCM_RATE
                backlog = due - self._stream_samples
                if backlog > MAX_FILL_SECONDS * PCM_RATE:
                    self._stream_start += (backlog - frame) / PCM_RATE
                while self._stream_samples + frame <= due:
                    await self._send(silence)
            await asyncio.sleep(max(quiet_from - now, frame / PCM_RATE))

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
        """Renew the lease while the call holds it; return once it is lost to another call.

        While Redis cannot be reached the sidecar stays in use, and renewal goes on trying.
        """
        renewed = True
        while renewed:
            await asyncio.sleep(self._settings.lease_ttl / 3)
            try:
                renewed = await lease.renew()
            except RedisError as error:
                logger.warning("call %s: sidecar lease not renewed (%s)", self._call_id, error)
        logger.warning("call %s: sidecar lease on %s was lost", self._call_id, lease.url)


_closing: set[asyncio.Task] = set()  # links closing in the background, kept until closed


def _close_unused(opening: asyncio.Task) -> None:
    """Close a link that opened after all (its call had ended meanwhile)."""
    if not opening.cancelled() and opening.exception() is None:
        closing = asyncio.ensure_future(opening.result().close())
        _closing.add(closing)
        closing.add_done_callback(_closing.discard)
