"""Celery tasks of calls: the post-call analysis."""

import asyncio
import logging

from celery import shared_task
from django.conf import settings
from django_tenants.utils import schema_context

from voice.agent.base import AgentProfile, Turn
from voice.agent.offline import agent_for
from voice.models import Call

logger = logging.getLogger(__name__)


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
