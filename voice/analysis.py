"""The post-call analysis: summary, intent, sentiment, outcome and follow-up, onto the call.

Run by a Celery task, each in an event loop of its own, so the agent is one of that loop's
(`agent_in_this_loop`): an SDK client is never carried from one loop to the next.
"""

import asyncio

from django.conf import settings

from tenants_app.db import tenant_schema
from tenants_app.models import Tenant
from voice.agent.base import AgentProfile, ToolRecord, Turn
from voice.agent.providers import agent_in_this_loop
from voice.models import Call
from voice.selectors import call_agent_snapshot, call_history, call_tool_records


def call_analysis_make(*, schema_name: str, call_id: str) -> None:
    """Analyze a finished call and store the analysis on its row."""
    tenant = Tenant.objects.get(schema_name=schema_name)
    with tenant_schema(schema_name):
        snapshot = call_agent_snapshot(call_id=call_id, opening_hours=tenant.opening_hours)
        profile = snapshot.profile(business=tenant.name, timezone=tenant.timezone)
        history = [Turn(role, text) for role, text in call_history(call_id=call_id)]
        tools = tuple(call_tool_records(call_id=call_id))
    analysis = asyncio.run(_analyze(profile, history, tools))
    with tenant_schema(schema_name):
        Call.objects.filter(pk=call_id).update(analysis=analysis)


async def _analyze(
    profile: AgentProfile, history: list[Turn], tools: tuple[ToolRecord, ...]
) -> dict:
    async with agent_in_this_loop(settings.NEXUS_AGENT) as agent:
        return await agent.analyze(profile=profile, history=history, tools=tools)
