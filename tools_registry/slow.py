"""Slow tools run in a Celery worker; their results come back over the channel layer.

The call's consumer has a channel name; the task gets it with the schema and the invocation id
(passed explicitly: async code never relies on a connection's current schema), runs the tool in
that schema, records the result, and sends a `tool.result` event to that channel. The consumer
hands the event to `SlowTools.deliver`, which wakes the waiting call.
"""

import asyncio
from dataclasses import asdict
from typing import Any

from asgiref.sync import sync_to_async

from tools_registry.base import ToolContext, ToolResult
from tools_registry.results import result_from_event
from tools_registry.tasks import tool_run


class SlowTools:
    def __init__(self, reply_channel: str) -> None:
        self._reply_channel = reply_channel
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}

    async def run(self, context: ToolContext, *, timeout: float) -> ToolResult:  # noqa: ASYNC109
        """Run the tool of `context.invocation_id` in a worker; TimeoutError if none answers.

        The timeout also expires the task, so a worker that comes back later skips it.
        """
        waiting = asyncio.get_running_loop().create_future()
        self._waiting[context.invocation_id] = waiting
        try:
            await sync_to_async(tool_run.apply_async)(
                kwargs={"context": asdict(context), "reply_channel": self._reply_channel},
                expires=timeout,
            )
            return result_from_event(await asyncio.wait_for(waiting, timeout))
        finally:
            self._waiting.pop(context.invocation_id, None)

    def deliver(self, event: dict[str, Any]) -> None:
        """A `tool.result` event from a worker (ignored if the call stopped waiting)."""
        waiting = self._waiting.get(event["invocation_id"])
        if waiting is not None and not waiting.done():
            waiting.set_result(event)
