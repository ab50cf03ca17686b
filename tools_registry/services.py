"""Writes of tool invocations: one row per tool call, written when it starts and when it ends."""

from typing import Any

from django.utils import timezone

from tools_registry.base import ToolResult
from tools_registry.models import InvocationStatus, ToolInvocation
from tools_registry.validation import without_nul


def tool_invocation_start(*, call_id: str, tool_name: str, arguments: dict[str, Any]) -> int:
    """Record that a tool is about to run; returns the invocation's id."""
    return ToolInvocation.objects.create(
        call_id=call_id, tool_name=tool_name, arguments=arguments
    ).pk


def tool_invocation_reject(
    *, call_id: str, tool_name: str, arguments: dict[str, Any], error: str
) -> int:
    """Record a tool call that was not run (an unknown tool, invalid arguments), and why."""
    return ToolInvocation.objects.create(
        call_id=call_id,
        tool_name=without_nul(tool_name)[:64],
        arguments=without_nul(arguments),
        status=InvocationStatus.REJECTED,
        error=without_nul(error),
        finished_at=timezone.now(),
        duration_ms=0,
    ).pk


def tool_invocation_finish(
    *,
    invocation_id: int,
    elapsed: float,
    result: ToolResult | None = None,
    error: str = "",
    timed_out: bool = False,
) -> None:
    """Record how a tool call ended: its result, or its error.

    A timeout only marks a call still running: a slow tool that finished meanwhile keeps its
    result. A result that arrives after a timeout is still recorded, since it did happen.
    """
    if timed_out:
        status = InvocationStatus.TIMED_OUT
    else:
        status = InvocationStatus.SUCCEEDED if result else InvocationStatus.FAILED
    rows = ToolInvocation.objects.filter(pk=invocation_id)
    if timed_out:
        rows = rows.filter(status=InvocationStatus.RUNNING)
    rows.update(
        status=status,
        result={"data": result.data, "summary": result.summary} if result else None,
        error=error,
        finished_at=timezone.now(),
        duration_ms=int(elapsed * 1000),
    )
