"""Celery tasks of calls: the post-call analysis, and recordings past their retention."""

from celery import shared_task
from django.utils import timezone

from voice.analysis import call_analysis_make
from voice.recording.retention import call_recordings_expire


@shared_task(
    name="calls.analyze",
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=3,
)
def call_analyze(*, schema_name: str, call_id: str) -> None:
    """Summarize a finished call (summary, intent, sentiment, outcome, follow-up) onto its row."""
    call_analysis_make(schema_name=schema_name, call_id=call_id)


@shared_task(name="recordings.expire", ignore_result=True)
def recordings_expire() -> None:
    """Delete the recordings past their tenant's retention, in every tenant (Celery beat)."""
    call_recordings_expire(now=timezone.now())
