"""Celery tasks of the tools: run a slow tool inside its tenant's schema."""

import asyncio
import logging
import time

from celery import shared_task
from channels.layers import get_channel_layer

from tenants_app.db import schema_run
from tools_registry.base import ToolContext, ToolError, ToolResult
from tools_registry.registry import tool_get
from tools_registry.services import tool_invocation_finish
from tools_registry.slow import RESULT_EVENT

logger = logging.getLogger(__name__)


@shared_task(name="tools.run", acks_late=True, ignore_result=True)
def tool_run(*, context: dict, reply_channel: str) -> None:
    """Run one invocation's tool, record its outcome, and send it to the waiting call."""
    asyncio.run(_run(ToolContext(**context), reply_channel))


async def _run(context: ToolContext, reply_channel: str) -> None:
    from tools_registry.models import ToolInvocation

    invocation = await schema_run(
        context.schema_name, ToolInvocation.objects.get, pk=context.invocation_id
    )
    tool = tool_get(invocation.tool_name)
    started = time.monotonic()
    event = {"type": RESULT_EVENT, "invocation_id": context.invocation_id}
    try:
        if tool is None:
            raise ToolError(f"no tool {invocation.tool_name!r} in this worker")
        result: ToolResult = await asyncio.wait_for(
            tool.execute(context, invocation.arguments), tool.timeout
        )
    except Exception as error:
        if isinstance(error, ToolError):
            problem = str(error)
        else:
            logger.exception("tool %s failed", invocation.tool_name)
            problem = f"{invocation.tool_name} failed"
        await schema_run(
            context.schema_name,
            tool_invocation_finish,
            invocation_id=context.invocation_id,
            error=problem,
            elapsed=time.monotonic() - started,
        )
        event |= {"ok": False, "error": problem}
    else:
        await schema_run(
            context.schema_name,
            tool_invocation_finish,
            invocation_id=context.invocation_id,
            result=result,
            elapsed=time.monotonic() - started,
        )
        event |= {
            "ok": True,
            "data": result.data,
            "summary": result.summary,
            "ends_call": result.ends_call,
        }
    await get_channel_layer().send(reply_channel, event)
