"""The `tool.result` event: a slow tool's outcome, from a Celery worker to the waiting call.

The worker sends it to the call's channel over the channel layer; the call's consumer hands it
to `SlowTools.deliver`. Only plain JSON crosses: the invocation id and the result or the error.
"""

from typing import Any

from tools_registry.base import ToolError, ToolResult

RESULT_EVENT = "tool.result"


def result_event(invocation_id: int, outcome: ToolResult | ToolError) -> dict[str, Any]:
    """The event that carries `outcome` (a result, or the error the tool ended with)."""
    event: dict[str, Any] = {"type": RESULT_EVENT, "invocation_id": invocation_id}
    if isinstance(outcome, ToolError):
        return event | {"ok": False, "error": outcome.message}
    return event | {
        "ok": True,
        "data": outcome.data,
        "summary": outcome.summary,
        "ends_call": outcome.ends_call,
    }


def result_from_event(event: dict[str, Any]) -> ToolResult:
    """The result an event carries; raises the `ToolError` it carries instead."""
    if not event["ok"]:
        raise ToolError(event["error"])
    return ToolResult(event["data"], event["summary"], event["ends_call"])
