"""Reads of the voice models, inside the tenant's schema: what a call needs to know, and what
support staff read of past calls (their review, search and dashboard).

A call reads its persona once, when it starts, as an `AgentSnapshot`: plain, frozen data that
can be cached and shared with the tools and the agent without touching the database again.
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db.models import Aggregate, Avg, Count, Exists, F, FloatField, OuterRef, Q, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, TruncDate

from tenants_app.opening_hours import opening_hours_knowledge
from tools_registry.models import InvocationStatus, ToolEnablement, ToolInvocation
from tools_registry.registry import tool_get
from voice.agent.base import AgentProfile, ToolRecord
from voice.models import Call, KnowledgeItem, Persona, Role, TranscriptEntry

# The words of a transcript entry, as the GIN index `transcript_text_search` has them.
TRANSCRIPT_WORDS = SearchVector("text", config="english")


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
    knowledge: tuple[tuple[str, str], ...]  # (title, content): the hours, then the admin's order
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


def agent_snapshot(*, persona: Persona, opening_hours: dict) -> AgentSnapshot:
    """The persona as a call needs it; its knowledge led by the business's opening hours in
    words (`Tenant.opening_hours`), when it has any."""
    knowledge = opening_hours_knowledge(opening_hours) + persona_knowledge(persona_id=persona.pk)
    return AgentSnapshot(
        persona_id=persona.pk,
        slug=persona.slug,
        name=persona.name,
        system_prompt=persona.system_prompt,
        greeting=persona.greeting,
        voice_engine=persona.voice_provider,
        voice_id=persona.voice_id,
        language=persona.language,
        knowledge=tuple(knowledge),
        tools=tuple(persona_tools_enabled(persona_id=persona.pk)),
    )


def call_agent_snapshot(*, call_id: str, opening_hours: dict) -> AgentSnapshot:
    """The snapshot of the persona a call was made with (as it is now)."""
    persona = Call.objects.select_related("persona").get(pk=call_id).persona
    return agent_snapshot(persona=persona, opening_hours=opening_hours)


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


def call_search(*, calls: QuerySet[Call], words: str) -> QuerySet[Call]:
    """The calls of `calls` in which `words` were said (by anyone, tool and system entries
    included): English full-text search, so "booked" finds "booking"; web-search syntax
    ("a phrase", or, -word). Matches on the indexed expression, so the index serves it."""
    said = TranscriptEntry.objects.annotate(words=TRANSCRIPT_WORDS).filter(
        call=OuterRef("pk"), words=SearchQuery(words, config="english", search_type="websearch")
    )
    return calls.filter(Exists(said))


def call_outcomes() -> list[str]:
    """Every outcome the post-call analysis gave a call of this tenant, alphabetically."""
    outcomes = Call.objects.filter(analysis__outcome__isnull=False).values_list(
        KT("analysis__outcome"), flat=True
    )
    return sorted(set(outcomes))


def call_transcript(*, call_id: str) -> list[TranscriptEntry]:
    """The call's stored entries in the order they were said (by start, then as numbered)."""
    return list(TranscriptEntry.objects.filter(call_id=call_id).order_by("start_ms", "sequence"))


def call_tool_invocations(*, call_id: str) -> list[ToolInvocation]:
    """Every attempt at a tool in the call, in the order they started."""
    return list(ToolInvocation.objects.filter(call_id=call_id).order_by("started_at", "pk"))


class Median(Aggregate):
    """PostgreSQL's continuous median of a numeric expression (NULLs left out)."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _metric(path: str) -> Cast:
    """A number inside `Call.metrics` (`path`: keys joined by `__`), as a float."""
    return Cast(KT(f"metrics__{path}"), FloatField())


def calls_per_day(*, since: dt.datetime, zone: ZoneInfo) -> dict[dt.date, int]:
    """How many calls started on each day of `zone` since `since` (days without any left out)."""
    days = (
        Call.objects.filter(started_at__gte=since)
        .annotate(day=TruncDate("started_at", tzinfo=zone))
        .values("day")
        .annotate(count=Count("pk"))
    )
    return {row["day"]: row["count"] for row in days}


def call_duration_average(*, since: dt.datetime) -> dt.timedelta | None:
    """The average length of the calls that started since `since` and have ended."""
    ended = Call.objects.filter(started_at__gte=since, ended_at__isnull=False)
    return ended.aggregate(average=Avg(F("ended_at") - F("started_at")))["average"]


def call_outcome_counts(*, since: dt.datetime) -> list[tuple[str | None, int]]:
    """(analysis outcome, calls) for the calls started since `since`, most frequent first;
    None counts the calls not analyzed (yet)."""
    outcomes = (
        Call.objects.filter(started_at__gte=since)
        .values(outcome=KT("analysis__outcome"))
        .annotate(count=Count("pk"))
        .order_by("-count", "outcome")
    )
    return [(row["outcome"], row["count"]) for row in outcomes]


def tool_invocation_counts(*, since: dt.datetime) -> tuple[int, int]:
    """(succeeded, finished) tool invocations started since `since`: still running ones aside."""
    finished = ToolInvocation.objects.filter(started_at__gte=since).exclude(
        status=InvocationStatus.RUNNING
    )
    counts = finished.aggregate(
        finished=Count("pk"), succeeded=Count("pk", filter=Q(status=InvocationStatus.SUCCEEDED))
    )
    return counts["succeeded"], counts["finished"]


def calls_needing_a_person(*, limit: int) -> tuple[list[Call], int]:
    """The newest `limit` calls handed over to a person (with their persona), and how many
    there are in all."""
    calls = Call.objects.filter(needs_human=True).select_related("persona").order_by("-started_at")
    return list(calls[:limit]), calls.count()


def call_bridge_latency_median(*, since: dt.datetime) -> tuple[float | None, float | None]:
    """The median over calls started since `since` of each call's p50 bridge latency, in ms:
    (uplink: the caller to the voice engine, downlink: the voice engine to the caller). None
    when no call measured it."""
    figures = Call.objects.filter(started_at__gte=since).aggregate(
        uplink=Median(_metric("uplink_latency__p50_ms")),
        downlink=Median(_metric("downlink_latency__p50_ms")),
    )
    return figures["uplink"], figures["downlink"]
