"""Tasks a call runs beside its socket loop: named, and never failing in silence."""

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger(__name__)


def background_task(coroutine: Coroutine[Any, Any, Any], name: str) -> asyncio.Task:
    """Start `coroutine` as a task; its failure, if any, is logged. Keep it, and cancel it."""
    task = asyncio.create_task(coroutine, name=name)
    task.add_done_callback(_log_failure)
    return task


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("task %s failed", task.get_name(), exc_info=task.exception())
