"""Running a tool: under its timeout, with every failure turned into a `ToolError`.

`tool_execute` is shared by the call's own loop (fast tools) and the Celery worker (slow ones);
`slow_invocation_run` is the worker's side of a slow tool: run the recorded invocation in its
tenant's schema, record how it ended, and send the outcome to the waiting call.
"""

import asyncio
import logging
import time
from typing import Any

from nexus_project.channel_layer import channel_layer
from tenants_app.db import schema_run
from tools_registry.base import BaseTool, ToolContext, ToolError, ToolResult
from tools_registry.registry import tool_get
from tools_registry.results import result_event
from tools_registry.selectors import invocation_get
from tools_registry.services import tool_invocation_finish

logger = logging.getLogger(__name__)


async def tool_execute(
    tool: BaseTool, context: ToolContext, arguments: dict[str, Any]
) -> ToolResult:
    """Run `tool` under its timeout: its result, `TimeoutError`, or a `ToolError` for the rest."""
    try:
        return await asyncio.wait_for(tool.execute(context, arguments), tool.timeout)
    except (ToolError, TimeoutError):
        raise
    except Exception as error:
        logger.exception("tool %s failed", tool.name)
        raise ToolError(f"{tool.name} failed") from error


def timeout_message(title: str) -> str:
    """What the caller hears of a tool that took too long (`title`: as the caller knows it)."""
    return f"{title} is not answering right now; please try again in a moment."


async def slow_invocation_run(*, context: ToolContext, reply_channel: str) -> None:
    """Run the invocation `context` names, record its outcome, and send it to `reply_channel`."""
    invocation = await schema_run(
        context.schema_name, invocation_get, invocation_id=context.invocation_id
    )
    tool = tool_get(invocation.tool_name)
    started = time.monotonic()
    outcome: ToolResult | ToolError
    try:
        if tool is None:
            raise ToolError(f"no tool {invocation.tool_name!r} in this worker")
        outcome = await tool_execute(tool, context, invocation.arguments)
    except ToolError as error:
        outcome = error
    except TimeoutError:
        outcome = ToolError(timeout_message(tool.title_for(context.settings) if tool else ""))
    elapsed = time.monotonic() - started
    status = "succeeded" if isinstance(outcome, ToolResult) else f"failed ({outcome.message})"
    logger.info("slow tool %s %s in %.0f ms", invocation.tool_name, status, elapsed * 1000)
    await schema_run(
        context.schema_name,
        tool_invocation_finish,
        invocation_id=context.invocation_id,
        elapsed=elapsed,
        result=outcome if isinstance(outcome, ToolResult) else None,
        error=outcome.message if isinstance(outcome, ToolError) else "",
    )
    await channel_layer().send(reply_channel, result_event(context.invocation_id, outcome))
