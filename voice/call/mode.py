"""Which path serves a call now: voice, or text while no voice engine can serve.

A voice call starts in voice; it moves to text when no engine can serve, and back when one can.
Every move, and every move from one voice engine to another, is told to the caller (`mode`) and
stored.
"""

from collections.abc import Awaitable, Callable

from nexus_project.metrics import MODE_SWITCHES
from tenants_app.db import schema_run
from voice.call.protocol import Message, ModeReason, mode_message
from voice.models import CallMode
from voice.services import call_mode_set


class ServingMode:
    def __init__(
        self,
        *,
        schema_name: str,
        call_id: str,
        mode: CallMode,
        send_json: Callable[[Message], Awaitable[None]],
    ) -> None:
        self._schema_name = schema_name
        self._call_id = call_id
        self._send_json = send_json
        self.mode = mode

    async def switch(self, mode: CallMode, reason: ModeReason, engine: str | None = None) -> None:
        """Move the call to `mode` (in voice: to `engine`): the caller is told why, the call row
        records it."""
        self.mode = mode
        MODE_SWITCHES.labels(mode, engine or "", reason).inc()
        await self._send_json(mode_message(mode, reason, engine))
        await schema_run(self._schema_name, call_mode_set, call_id=self._call_id, mode=mode)
