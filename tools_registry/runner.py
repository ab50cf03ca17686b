"""The tools of one call: only the persona's enabled tools, validated, run, recorded, reported.

Implements the agent's `ToolRunner`. Every call of a tool is a `ToolInvocation` row, written
before it runs and again when it ends; the caller sees a `tool` message when it starts and when it
ends, and the transcript gets a `tool` entry. Fast tools run here, under their timeout; slow ones
in a Celery worker (`SlowTools`). Whatever goes wrong comes back as a failed outcome the agent can
talk about, never as an exception.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tenants_app.db import schema_run
from tools_registry.base import BaseTool, ToolContext, ToolError, ToolResult
from tools_registry.registry import tool_get
from tools_registry.services import tool_invocation_finish, tool_invocation_start
from tools_registry.slow import SlowTools
from tools_registry.validation import schema_errors
from voice.agent.base import ToolOutcome, ToolSpec

logger = logging.getLogger(__name__)


class CallToolRunner:
    def __init__(
        self,
        *,
        schema_name: str,
        call_id: str,
        persona_id: int,
        enabled: dict[str, dict[str, Any]],
        slow_tools: SlowTools,
        report: Callable[[dict], Awaitable[None]],
        on_end_call: Callable[[], None],
    ) -> None:
        self._schema_name = schema_name
        self._call_id = call_id
        self._persona_id = persona_id
        self._enabled = {name: s for name, s in enabled.items() if tool_get(name) is not None}
        self._slow_tools = slow_tools
        self._report = report
        self._on_end_call = on_end_call
        self._count = 0
        self.specs = tuple(
            ToolSpec(name, tool.description_for(s), tool.parameters_for(s))
            for name, s in self._enabled.items()
            if (tool := tool_get(name))
        )

    async def run(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        tool = tool_get(name) if name in self._enabled else None
        if tool is None:
            return ToolOutcome(name, False, {"error": f"no tool {name!r} for this agent"}, "")
        settings = self._enabled[name]
        errors = schema_errors(arguments, tool.parameters_for(settings))
        if errors:
            return ToolOutcome(name, False, {"error": "invalid arguments", "details": errors}, "")
        invocation_id = await schema_run(
            self._schema_name,
            tool_invocation_start,
            call_id=self._call_id,
            tool_name=name,
            arguments=arguments,
        )
        self._count += 1
        message_id = f"tool{self._count}"
        await self._report({"id": message_id, "name": name, "status": "started", "summary": ""})
        started = time.monotonic()
        context = ToolContext(
            self._schema_name, self._call_id, self._persona_id, invocation_id, settings
        )
        try:
            if tool.slow:
                result = await self._slow_tools.run(context, timeout=tool.timeout)
            else:
                result = await _run_inline(tool, context, arguments)
                await schema_run(
                    self._schema_name,
                    tool_invocation_finish,
                    invocation_id=invocation_id,
                    result=result,
                    elapsed=time.monotonic() - started,
                )
        except (ToolError, TimeoutError) as error:
            problem = str(error) or f"{name} did not answer in time"
            if not tool.slow or isinstance(error, TimeoutError):
                await schema_run(
                    self._schema_name,
                    tool_invocation_finish,
                    invocation_id=invocation_id,
                    error=problem,
                    timed_out=isinstance(error, TimeoutError),
                    elapsed=time.monotonic() - started,
                )
            await self._report(
                {"id": message_id, "name": name, "status": "failed", "summary": problem}
            )
            return ToolOutcome(name, False, {"error": problem}, problem)
        await self._report(
            {"id": message_id, "name": name, "status": "succeeded", "summary": result.summary}
        )
        if result.ends_call:
            self._on_end_call()
        return ToolOutcome(name, True, result.data, result.summary)


async def _run_inline(tool: BaseTool, context: ToolContext, arguments: dict) -> ToolResult:
    try:
        return await asyncio.wait_for(tool.execute(context, arguments), tool.timeout)
    except (ToolError, TimeoutError):
        raise
    except Exception as error:
        logger.exception("tool %s failed", tool.name)
        raise ToolError(f"{tool.name} failed") from error
