"""Reads of the voice models, inside the tenant's schema: what a call needs to know.

A call reads its persona once, when it starts, as an `AgentSnapshot`: plain, frozen data that
can be cached and shared with the tools and the agent without touching the database again.
"""

from dataclasses import dataclass

from tools_registry.models import ToolEnablement, ToolInvocation
from tools_registry.registry import tool_get
from voice.agent.base import AgentProfile, ToolRecord
from voice.models import Call, KnowledgeItem, Persona, Role, TranscriptEntry


@dataclass(frozen=True)
class AgentSnapshot:
    """What a call needs to know about its persona, read once when the call starts."""

    persona_id: int
    slug: str
    name: str
    system_prompt: str
    greeting: str
    voice_engine: str  # the persona's `voice_provider`
    voice_id: str
    language: str
    knowledge: tuple[tuple[str, str], ...]  # (title, content), in the admin's order
    tools: tuple[tuple[str, dict], ...]  # (tool name, this tenant's settings), enabled ones

    def profile(self, *, business: str, timezone: str) -> AgentProfile:
        """Who the agent is, as the text agent needs it, speaking for `business`."""
        return AgentProfile(
            name=self.name,
            business=business,
            system_prompt=self.system_prompt,
            greeting=self.greeting,
            knowledge=self.knowledge,
            timezone=timezone,
        )


def persona_knowledge(*, persona_id: int) -> list[tuple[str, str]]:
    """The persona's knowledge items as (title, content), in the admin's order."""
    items = KnowledgeItem.objects.filter(persona_id=persona_id)
    return list(items.values_list("title", "content"))


def persona_tools_enabled(*, persona_id: int) -> list[tuple[str, dict]]:
    """The persona's enabled tools as (tool name, settings), in the order they were enabled."""
    enabled = ToolEnablement.objects.filter(persona_id=persona_id, is_enabled=True).order_by("id")
    return list(enabled.values_list("tool_name", "settings"))


def agent_snapshot(*, persona: Persona) -> AgentSnapshot:
    return AgentSnapshot(
        persona_id=persona.pk,
        slug=persona.slug,
        name=persona.name,
        system_prompt=persona.system_prompt,
        greeting=persona.greeting,
        voice_engine=persona.voice_provider,
        voice_id=persona.voice_id,
        language=persona.language,
        knowledge=tuple(persona_knowledge(persona_id=persona.pk)),
        tools=tuple(persona_tools_enabled(persona_id=persona.pk)),
    )


def call_agent_snapshot(*, call_id: str) -> AgentSnapshot:
    """The snapshot of the persona a call was made with (as it is now)."""
    return agent_snapshot(persona=Call.objects.select_related("persona").get(pk=call_id).persona)


def call_tool_records(*, call_id: str) -> list[ToolRecord]:
    """Every attempt at a tool in the call, in order, as the analysis reads it."""
    records = []
    for invocation in ToolInvocation.objects.filter(call_id=call_id).order_by("started_at", "pk"):
        tool = tool_get(invocation.tool_name)
        result = invocation.result or {}
        records.append(
            ToolRecord(
                name=invocation.tool_name,
                title=tool.title_for({}) if tool else invocation.tool_name,
                status=invocation.status,
                summary=result.get("summary") or invocation.error,
                confirmed=bool(invocation.arguments.get("confirmed")),
            )
        )
    return records


def call_history(*, call_id: str) -> list[tuple[str, str]]:
    """What the caller and the agent said, as (role, text), in the order it was said."""
    entries = TranscriptEntry.objects.filter(
        call_id=call_id, role__in=[Role.CALLER, Role.AGENT]
    ).order_by("start_ms", "sequence")
    return list(entries.values_list("role", "text"))
