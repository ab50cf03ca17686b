"""Celery tasks of the tools: run a slow tool inside its tenant's schema."""

import asyncio

from celery import shared_task

from tools_registry.base import ToolContext
from tools_registry.execution import slow_invocation_run


@shared_task(name="tools.run", acks_late=True, ignore_result=True)
def tool_run(*, context: dict, reply_channel: str) -> None:
    """Run one invocation's tool, record its outcome, and send it to the waiting call."""
    asyncio.run(slow_invocation_run(context=ToolContext(**context), reply_channel=reply_channel))
