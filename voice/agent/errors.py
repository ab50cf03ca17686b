"""Errors of the agent providers that their callers are expected to handle."""


class AnalysisError(Exception):
    """A call's analysis could not be produced: the model is unreachable or answered nonsense.

    Raised by ``Agent.analyze``; the caller (a Celery task) decides whether to retry or give up.
    """
