"""Celery tasks of calls: the post-call analysis."""

import asyncio
from dataclasses import asdict

from celery import shared_task
from django.conf import settings
from django_tenants.utils import schema_context

from voice.agent.base import AgentProfile, Turn
from voice.agent.offline import agent_for
from voice.models import Call


@shared_task(
    name="calls.analyze",
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=3,
)
def call_analyze(*, schema_name: str, call_id: str) -> None:
    """Summarize a finished call (summary, intent, sentiment, outcome, follow-up) onto its row."""
    with schema_context(schema_name):
        call = Call.objects.select_related("persona").get(pk=call_id)
        persona = call.persona
        profile = AgentProfile(
            name=persona.name,
            system_prompt=persona.system_prompt,
            greeting=persona.greeting,
            knowledge=tuple(persona.knowledge.values_list("title", "content")),
        )
        history = [
            Turn(role, text)
            for role, text in call.transcript.filter(role__in=["caller", "agent"])
            .order_by("start_ms", "sequence")
            .values_list("role", "text")
        ]
    analysis = asyncio.run(
        agent_for(settings.NEXUS_AGENT).analyze(profile=profile, history=history)
    )
    with schema_context(schema_name):
        Call.objects.filter(pk=call_id).update(analysis=analysis)


async def _analyze(profile: AgentProfile, history: list[Turn]) -> dict:
    """Each task runs its own event loop: use an agent of its own, and close it."""
    if settings.NEXUS_AGENT == "gemini":
        from voice.agent.gemini import GeminiAgent  # only a Gemini deployment loads the SDK
        from voice.agent.gemini_client import gemini_config_from_settings

        agent = GeminiAgent(**asdict(gemini_config_from_settings()))
        try:
            return await agent.analyze(profile=profile, history=history)
        finally:
            await agent.aclose()
    return await agent_for(settings.NEXUS_AGENT).analyze(profile=profile, history=history)
