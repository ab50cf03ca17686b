"""Capturing log lines as production writes them: JSON, one object per line."""

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from nexus_project.logs import CallContextFilter, JsonFormatter


class CapturedLogs:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict]:
        """Every line written so far, parsed (a line that is not one JSON object fails)."""
        return [json.loads(line) for line in self.text.splitlines()]


@contextmanager
def captured_logs(level: int = logging.DEBUG) -> Iterator[CapturedLogs]:
    """Every record reaching the root logger meanwhile (which is then at `level`), formatted
    by the production handler's filter and formatter."""
    captured = CapturedLogs()
    handler = logging.StreamHandler(captured.stream)
    handler.addFilter(CallContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield captured
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
