"""The tools a Live session's model calls: each call runs through the call's ToolRunner in a task
of its own (a slow tool never stalls the session), and its outcome goes back to the session that
asked, for the model to say; a call the model cancels is stopped and never answered."""

import asyncio
import functools
import logging

from google.genai import types
from google.genai.live import AsyncSession
from websockets.exceptions import WebSocketException

from voice.agent.base import ToolRunner
from voice.agent.gemini_prompt import function_response
from voice.call.background import background_task

logger = logging.getLogger(__name__)


class LiveToolCalls:
    def __init__(self, runner: ToolRunner, *, call_id: str) -> None:
        self._runner = runner
        self._call_id = call_id
        self._running: dict[str, asyncio.Task] = {}  # by the model's id of the call
        self.ends_call = False  # a tool asked to end the call once the agent has answered

    def start(self, session: AsyncSession, calls: list[types.FunctionCall]) -> None:
        for call in calls:
            call_id = call.id or ""
            task = background_task(self._run(session, call), f"live-tool-{call_id}")
            self._running[call_id] = task
            task.add_done_callback(functools.partial(self._finished, call_id))

    def cancel(self, call_ids: list[str]) -> None:
        for call_id in call_ids:
            if task := self._running.get(call_id):
                task.cancel()

    async def close(self) -> None:
        """Stop the tools still running."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _finished(self, call_id: str, _: asyncio.Task) -> None:
        self._running.pop(call_id, None)

    async def _run(self, session: AsyncSession, call: types.FunctionCall) -> None:
        outcome = await self._runner.run(call.name or "", dict(call.args or {}))
        self.ends_call |= outcome.ends_call
        response = function_response(call, outcome).function_response
        try:
            await session.send_tool_response(function_responses=[response] if response else [])
        except WebSocketException:  # the model that asked is gone (a resumed session never did)
            logger.info("call %s: %s finished after its session ended", self._call_id, call.name)
