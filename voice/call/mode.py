"""Which path serves a call now: voice, or text while no voice engine can serve.

A voice call starts in voice; it moves to text when no engine can serve, and back when one can.
Every move, and every move from one voice engine to another, is told to the caller (`mode`), to
the staff watching (`voice.monitor`), and stored: on the call row, and as a `system` transcript
entry saying why, for the call's review.
"""

import asyncio
from collections.abc import Awaitable, Callable

from nexus_project.metrics import MODE_SWITCHES
from tenants_app.db import schema_run
from voice.call.clock import CallClock
from voice.call.protocol import Message, ModeReason, mode_message
from voice.call.transcript import FinalEntry, TranscriptRecorder
from voice.engines.names import EngineName
from voice.models import CallMode
from voice.monitor.publisher import CallMonitor
from voice.services import call_mode_set

REASON_WORDS = {
    ModeReason.SIDECAR_UNAVAILABLE: "the persona's voice engine could not be reached",
    ModeReason.SIDECAR_BUSY: "the persona's voice engine was busy",
    ModeReason.SIDECAR_LOADING: "the persona's voice engine was still loading",
    ModeReason.ENGINE_UNAVAILABLE: "the persona's voice engine was unavailable",
    ModeReason.RECOVERED: "the persona's voice engine is back",
}


def mode_switch_words(mode: CallMode, reason: ModeReason, engine: str | None) -> str:
    """The move as staff read it: "Moved to voice (Cascade): the persona's voice engine was
    busy"."""
    short_name = EngineName(engine).label.split(" (")[0] if engine in EngineName.values else ""
    serving = f" ({short_name})" if short_name else ""
    return f"Moved to {CallMode(mode).label.lower()}{serving}: {REASON_WORDS[reason]}"


class ServingMode:
    def __init__(
        self,
        *,
        schema_name: str,
        call_id: str,
        mode: CallMode,
        send_json: Callable[[Message], Awaitable[None]],
        monitor: CallMonitor,
        transcript: TranscriptRecorder,
        clock: CallClock,
    ) -> None:
        self._schema_name = schema_name
        self._call_id = call_id
        self._send_json = send_json
        self._monitor = monitor
        self._transcript = transcript
        self._clock = clock
        self.mode = mode

    async def switch(self, mode: CallMode, reason: ModeReason, engine: str | None = None) -> None:
        """Move the call to `mode` (in voice: to `engine`): the caller is told why, the call row
        records it, and the transcript says why."""
        self.mode = mode
        MODE_SWITCHES.labels(mode, engine or "", reason).inc()
        await self._send_json(mode_message(mode, reason, engine))
        self._monitor.mode(mode=mode, reason=reason, engine=engine)
        now = self._clock.ms()
        self._transcript.store(
            FinalEntry("system", mode_switch_words(mode, reason, engine), now, now)
        )
        # Shielded: a call that ends meanwhile still has its mode stored (before its end is).
        await asyncio.shield(
            schema_run(self._schema_name, call_mode_set, call_id=self._call_id, mode=mode)
        )
