"""Celery tasks of calls: the post-call analysis."""

from celery import shared_task

from voice.analysis import call_analysis_make


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
