"""Sending a call's events to its tenant's staff, beside the call and never in its way.

`CallMonitor.publish` only queues: one task per call sends the events in order. A channel layer
that fails or hangs costs the call nothing: a send gives up after `SEND_SECONDS`, failures are
logged, and beyond `MAX_WAITING` queued events new ones are dropped (and counted). `close()`
sends what is left, for `CLOSE_SECONDS` at the most. `staff_notify` sends one event from
outside a call (a tool), in a task of its own.
"""

import asyncio
import logging

from django.utils import timezone

from nexus_project.channel_layer import channel_layer
from voice.call.background import background_task
from voice.monitor.events import (
    Event,
    call_started_event,
    ended_event,
    entry_event,
    mode_event,
    staff_group,
    tool_event,
)

logger = logging.getLogger(__name__)

MAX_WAITING = 500  # events of one call waiting to be sent
SEND_SECONDS = 2.0  # how long one send may take before it is given up
CLOSE_SECONDS = 5.0  # at the end of the call, how long the events still waiting may take

_notices: set[asyncio.Task] = set()  # one-off events still being sent (kept until done)


async def _send(schema_name: str, event: Event) -> None:
    """Send `event` to the tenant's staff, or raise why not (in `SEND_SECONDS` at the most)."""
    group_send = channel_layer().group_send(staff_group(schema_name), event)
    await asyncio.wait_for(group_send, SEND_SECONDS)


async def _notify(schema_name: str, event: Event) -> None:
    try:
        await _send(schema_name, event)
    except Exception:
        logger.error("staff event %s not sent", event["type"], exc_info=True)


def staff_notify(*, schema_name: str, event: Event) -> None:
    """Send `event` to the tenant's staff in the background (errors logged, never raised)."""
    task = background_task(_notify(schema_name, event), f"staff-{event['type']}")
    _notices.add(task)
    task.add_done_callback(_notices.discard)


class CallMonitor:
    """One call's events for the staff of its tenant, sent in the order they happened."""

    def __init__(self, *, schema_name: str, call_id: str, persona: str, mode: str) -> None:
        self._schema_name = schema_name
        self._call_id = call_id
        self._persona = persona
        self._mode = mode
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._sender = background_task(self._send_all(), f"monitor-{call_id}")
        self.dropped = 0  # events not sent: too many waiting, or the channel layer failed

    def started(self) -> None:
        self.publish(
            call_started_event(
                call_id=self._call_id,
                persona=self._persona,
                mode=self._mode,
                started_at=timezone.now(),
            )
        )

    def entry(
        self, *, sequence: int, role: str, text: str, offset_ms: int, interrupted: bool
    ) -> None:
        self.publish(
            entry_event(
                call_id=self._call_id,
                sequence=sequence,
                role=role,
                text=text,
                offset_ms=offset_ms,
                interrupted=interrupted,
            )
        )

    def mode(self, *, mode: str, reason: str, engine: str | None) -> None:
        self.publish(mode_event(call_id=self._call_id, mode=mode, reason=reason, engine=engine))

    def tool(self, *, name: str, title: str, status: str) -> None:
        self.publish(tool_event(call_id=self._call_id, name=name, title=title, status=status))

    def ended(self, *, reason: str) -> None:
        self.publish(ended_event(call_id=self._call_id, reason=reason))

    def publish(self, event: Event) -> None:
        """Queue `event` for the staff; never waits."""
        if self._queue.qsize() >= MAX_WAITING:
            self.dropped += 1
            return
        self._queue.put_nowait(event)

    async def close(self) -> None:
        """Send the events still waiting (for `CLOSE_SECONDS` at the most), then stop."""
        self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(self._sender), CLOSE_SECONDS)
        except TimeoutError:
            self._sender.cancel()
            await asyncio.gather(self._sender, return_exceptions=True)
            self.dropped += self._queue.qsize()
        if self.dropped:
            logger.warning("call %s: %d staff events not sent", self._call_id, self.dropped)

    async def _send_all(self) -> None:
        while (event := await self._queue.get()) is not None:
            try:
                await _send(self._schema_name, event)
            except Exception:
                if not self.dropped:  # the first failure says why; the rest are counted
                    logger.warning("call %s: staff event not sent", self._call_id, exc_info=True)
                self.dropped += 1
