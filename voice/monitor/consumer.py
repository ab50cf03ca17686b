"""`/ws/staff/`: a tenant's calls in progress and what happens in them, for its staff.

On connect, a staff member let in by `StaffAccessMiddleware` gets the calls in progress now
(`{"type": "calls", "events": [...]}`: each call's start, transcript so far and transfer, as
they were sent), then every event of the tenant's calls as it happens (`voice.monitor.events`).
Anyone else is refused with 4403. The consumer only translates: events go out as they came.
"""

import json
import logging
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

from tenants_app.db import schema_run
from voice.monitor.access import StaffAccess, StaffRefused
from voice.monitor.events import Event, staff_group
from voice.monitor.middleware import staff_access
from voice.monitor.selectors import calls_in_progress_events

logger = logging.getLogger(__name__)

REFUSED = 4403


class StaffConsumer(AsyncWebsocketConsumer):
    access: StaffAccess | None = None

    async def connect(self) -> None:
        await self.accept()
        try:
            access = staff_access(self.scope)
        except StaffRefused as refusal:
            logger.info("staff socket refused: %s", refusal.message)
            await self.close(code=REFUSED)
            return
        # Joined before the calls are read: an event in between is sent after them, not lost
        # (it may repeat what they show; pages skip an entry they already have).
        await self.channel_layer.group_add(staff_group(access.schema_name), self.channel_name)
        self.access = access
        events = await schema_run(access.schema_name, calls_in_progress_events)
        await self._send({"type": "calls", "events": events})

    async def disconnect(self, code: int) -> None:
        if self.access is not None:
            group = staff_group(self.access.schema_name)
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Staff sockets only listen."""

    async def _forward(self, event: dict[str, Any]) -> None:
        await self._send(event)

    # Every event of a call goes out as it came (`voice.monitor.events`).
    call_started = call_entry = call_mode = call_tool = call_transfer = call_ended = _forward

    async def _send(self, event: Event) -> None:
        await self.send(text_data=json.dumps(event))
