"""Errors of the agent providers that their callers are expected to handle."""

from nexus_project.errors import ApplicationError


class AnalysisError(ApplicationError):
    """A call's analysis could not be produced: the model is unreachable or answered nonsense.

    Raised by ``Agent.analyze``; the caller (a Celery task) decides whether to retry or give up.
    """

    default_code = "analysis_failed"
