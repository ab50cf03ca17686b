"""The tools of one call: only the persona's enabled tools, validated, run, recorded, reported.

Implements the agent's `ToolRunner`. Every attempt at a tool is a `ToolInvocation` row: one the
agent may not use, or with invalid arguments, is recorded as `rejected` with the reason, which
the agent is told so that it can ask the caller; a run is written before it starts and again
when it ends. The caller sees one card per run (a `tool` message with the tool's title, updated
when it ends); the transcript gets a `tool` entry for staff, who also see each run start and end
live (`tool_reports`). Fast tools run here, under their timeout; slow ones in a Celery worker
(`SlowTools`). Whatever goes wrong comes back as a failed outcome the agent can talk about, never
as an exception.
"""

import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from nexus_project.metrics import TOOL_DURATION, TOOL_INVOCATIONS, tenant_label
from tenants_app.db import schema_run
from tools_registry.base import ToolContext, ToolError, ToolOutcome
from tools_registry.execution import timeout_message, tool_execute
from tools_registry.registry import tool_get
from tools_registry.services import (
    tool_invocation_finish,
    tool_invocation_reject,
    tool_invocation_start,
)
from tools_registry.slow import SlowTools
from tools_registry.validation import schema_errors
from voice.call.clock import CallClock
from voice.call.protocol import Message, tool_message
from voice.call.transcript import FinalEntry, TranscriptRecorder
from voice.monitor.publisher import CallMonitor

Report = Callable[[Message], Awaitable[None]]  # a `tool` message, for the caller


class CallToolRunner:
    def __init__(
        self,
        *,
        schema_name: str,
        call_id: str,
        persona_id: int,
        enabled: dict[str, dict[str, Any]],
        timezone: str,
        opening_hours: dict[str, list[list[str]]],
        slow_tools: SlowTools,
        report: Report,
    ) -> None:
        self._schema_name = schema_name
        self._call_id = call_id
        self._persona_id = persona_id
        self._enabled = {name: s for name, s in enabled.items() if tool_get(name) is not None}
        self._timezone = timezone
        self._opening_hours = opening_hours
        self._slow_tools = slow_tools
        self._report = report
        self._message_ids = (f"tool{n}" for n in itertools.count(1))
        self.specs = tuple(
            tool.spec_for(s) for name, s in self._enabled.items() if (tool := tool_get(name))
        )

    async def run(self, name: str, arguments: dict[str, Any]) -> ToolOutcome:
        tool = tool_get(name) if name in self._enabled else None
        if tool is None:
            self._count("unknown", "rejected")  # a name the model made up: not a label
            return await self._reject(
                name, arguments, {"error": f"no tool {name!r} for this agent"}
            )
        settings = self._enabled[name]
        errors = schema_errors(arguments, tool.parameters_for(settings))
        if errors:
            self._count(name, "rejected")
            return await self._reject(
                name, arguments, {"error": "invalid arguments", "details": errors}
            )
        title = tool.title_for(settings)
        invocation_id = await schema_run(
            self._schema_name,
            tool_invocation_start,
            call_id=self._call_id,
            tool_name=name,
            arguments=arguments,
        )
        message_id = next(self._message_ids)
        card = {"message_id": message_id, "name": name, "title": title}
        await self._report(tool_message(**card, status="started", summary=""))
        started = time.monotonic()
        context = ToolContext(
            self._schema_name,
            self._call_id,
            self._persona_id,
            invocation_id,
            settings,
            self._timezone,
            self._opening_hours,
        )
        try:
            if tool.slow:
                result = await self._slow_tools.run(context, timeout=tool.timeout)
            else:
                result = await tool_execute(tool, context, arguments)
        except (ToolError, TimeoutError) as error:
            timed_out = isinstance(error, TimeoutError)
            problem = error.message if isinstance(error, ToolError) else timeout_message(title)
            if timed_out or not tool.slow:  # a slow tool's worker records its own failure
                await self._finish(invocation_id, started, error=problem, timed_out=timed_out)
            self._count(name, "timed_out" if timed_out else "failed", started)
            await self._report(tool_message(**card, status="failed", summary=problem))
            return ToolOutcome(name, False, {"error": problem}, problem)
        if not tool.slow:
            await self._finish(invocation_id, started, result=result)
        self._count(name, "succeeded", started)
        await self._report(tool_message(**card, status="succeeded", summary=result.summary))
        return ToolOutcome(name, True, result.data, result.summary, ends_call=result.ends_call)

    async def _reject(
        self, name: str, arguments: dict[str, Any], problem: dict[str, Any]
    ) -> ToolOutcome:
        """Record an attempt that cannot run; the agent gets why (no card for the caller)."""
        reason = "; ".join([problem["error"], *problem.get("details", [])])
        await schema_run(
            self._schema_name,
            tool_invocation_reject,
            call_id=self._call_id,
            tool_name=name,
            arguments=arguments,
            error=reason,
        )
        await self._report(
            tool_message(message_id="", name=name, title="", status="rejected", summary=reason)
        )
        return ToolOutcome(name, False, problem, "")

    def _count(self, name: str, status: str, started: float | None = None) -> None:
        TOOL_INVOCATIONS.labels(tenant_label(self._schema_name), name, status).inc()
        if started is not None:
            TOOL_DURATION.labels(name).observe(time.monotonic() - started)

    async def _finish(self, invocation_id: int, started: float, **outcome: Any) -> None:
        await schema_run(
            self._schema_name,
            tool_invocation_finish,
            invocation_id=invocation_id,
            elapsed=time.monotonic() - started,
            **outcome,
        )


def tool_reports(
    *,
    send_json: Callable[[Message], Awaitable[None]],
    transcript: TranscriptRecorder,
    clock: CallClock,
    monitor: CallMonitor,
) -> Report:
    """Tool cards to the caller, each run to the staff watching, and a `tool` transcript entry
    (for staff) for each that ended."""

    async def report(message: Message) -> None:
        monitor.tool(name=message["name"], title=message["title"], status=message["status"])
        if message["status"] != "rejected":  # what never ran is for staff, not for the caller
            await send_json(message)
        if message["status"] != "started":
            now = clock.ms()
            text = f"{message['name']} {message['status']}: {message['summary']}".strip(": ")
            transcript.store(FinalEntry("tool", text, now, now))

    return report
