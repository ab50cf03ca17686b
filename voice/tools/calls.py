"""Tools that act on the call itself: `end_call` and `transfer_to_human`."""

from typing import Any

from tenants_app.db import schema_run
from tools_registry.base import BaseTool, ToolContext, ToolResult
from tools_registry.registry import register
from voice.monitor.events import transfer_event
from voice.monitor.publisher import staff_notify
from voice.services import call_needs_human_mark


@register
class EndCall(BaseTool):
    name = "end_call"
    title = "End of call"
    keywords = ("bye", "goodbye", "hang up", "that's all", "that is all")
    description = "End the call once the caller has said goodbye or has nothing more to ask."

    async def execute(self, context: ToolContext, arguments: dict[str, Any]) -> ToolResult:
        return ToolResult({"ended": True}, "Call ended", ends_call=True)


@register
class TransferToHuman(BaseTool):
    name = "transfer_to_human"
    title = "Transfer to a person"
    keywords = (
        "speak person", "talk person", "speak human", "talk human", "speak someone",
        "talk someone", "speak staff", "speak manager", "talk manager", "transfer",
        "put through", "connect person", "connect someone",
    )  # fmt: skip
    description = "Hand the caller over to a person when asked, or when you cannot help."
    parameters = {
        "type": "object",
        "properties": {"reason": {"type": "string", "description": "why, in a few words"}},
        "additionalProperties": False,
    }

    async def execute(self, context: ToolContext, arguments: dict[str, Any]) -> ToolResult:
        reason = arguments.get("reason", "")
        await schema_run(context.schema_name, call_needs_human_mark, call_id=context.call_id)
        event = transfer_event(call_id=context.call_id, reason=reason)
        staff_notify(schema_name=context.schema_name, event=event)  # the staff's alert
        return ToolResult(
            {"transferred": True}, "A member of staff has been asked to take over this call"
        )
