"""Log lines people can follow: each names the tenant, the call and the persona it was made for.

The call's fields live in a context variable: the call consumer binds them once the call is
known, and every task the call starts copies them (asyncio tasks copy the context they are
created in, threads of `sync_to_async` too). A Celery task gets them from the message that
enqueued it (`before_task_publish` puts them in a header, `task_prerun` binds them), or, when
it was sent from outside a call, from its own `schema_name` and `call_id` arguments. The
signal handlers are connected when this module is imported, which `settings.LOGGING` does in
every process (web, worker, tests).

`CallContextFilter`, on the handler, copies the fields onto every record; `ConsoleFormatter`
writes them compactly in colour (development), `JsonFormatter` as one JSON object per line
(production). Both formatters blank known secrets (the Gemini key, Django's secret key, database
passwords, tenant secrets a tool has read) wherever they appear, in the message or the
traceback, and cut widget keys to their first letters.
"""

import contextlib
import datetime as dt
import json
import logging
import os
import re
import threading
from collections.abc import Iterable, Iterator
from contextvars import ContextVar, Token
from dataclasses import asdict, dataclass, replace
from typing import Any

from celery import signals
from django.conf import settings

REDACTED = "[redacted]"
MIN_SECRET_CHARS = 8  # shorter values would blank ordinary words
MAX_RUNTIME_SECRETS = 512  # tenant secrets remembered for redaction, the latest kept
CELERY_HEADER = "nexus_log_context"


@dataclass(frozen=True)
class LogContext:
    """Whom a log line is about: the tenant (schema name), the call id, the persona (slug)."""

    tenant: str = ""
    call_id: str = ""
    persona: str = ""


NO_CONTEXT = LogContext()  # frozen: one shared default is safe
_context: ContextVar[LogContext] = ContextVar("nexus_log_context", default=NO_CONTEXT)


def log_context_current() -> LogContext:
    return _context.get()


def log_context_bind(
    *, tenant: str | None = None, call_id: str | None = None, persona: str | None = None
) -> Token[LogContext]:
    """Set the given fields for the current context and what it starts from now on (the others
    are kept); the token undoes it (`log_context_reset`)."""
    given = {"tenant": tenant, "call_id": call_id, "persona": persona}
    fields = {name: value for name, value in given.items() if value is not None}
    return _context.set(replace(_context.get(), **fields))


def log_context_reset(token: Token[LogContext]) -> None:
    _context.reset(token)


@contextlib.contextmanager
def log_context(
    *, tenant: str | None = None, call_id: str | None = None, persona: str | None = None
) -> Iterator[LogContext]:
    """`with log_context(tenant=..., call_id=...):` binds the fields for the block."""
    token = log_context_bind(tenant=tenant, call_id=call_id, persona=persona)
    try:
        yield _context.get()
    finally:
        log_context_reset(token)


# Redaction: secrets known to the settings, and tenant secrets read at run time.

_runtime_secrets: dict[str, None] = {}  # ordered: the oldest is forgotten first
_runtime_secrets_lock = threading.Lock()
_WIDGET_KEY = re.compile(r"\bpk_([A-Za-z0-9_-]{4})[A-Za-z0-9_-]{8,}")


def secrets_redact(values: Iterable[str]) -> None:
    """Keep `values` (a tenant's secrets, just read by a tool) out of every log line."""
    with _runtime_secrets_lock:
        for value in values:
            if len(value) >= MIN_SECRET_CHARS:
                _runtime_secrets.pop(value, None)
                _runtime_secrets[value] = None
        while len(_runtime_secrets) > MAX_RUNTIME_SECRETS:
            del _runtime_secrets[next(iter(_runtime_secrets))]


def _configured_secrets() -> list[str]:
    if not settings.configured:  # not loaded yet (a line logged while they load)
        return []
    values = [getattr(settings, "GEMINI_API_KEY", ""), getattr(settings, "SECRET_KEY", "")]
    values += [db.get("PASSWORD", "") for db in getattr(settings, "DATABASES", {}).values()]
    return [value for value in values if value and len(value) >= MIN_SECRET_CHARS]


def redact(text: str) -> str:
    """`text` with every known secret replaced by [redacted], widget keys cut to `pk_abcd…`."""
    for secret in [*_configured_secrets(), *list(_runtime_secrets)]:
        if secret in text:
            text = text.replace(secret, REDACTED)
    if "pk_" in text:
        text = _WIDGET_KEY.sub(r"pk_\1…", text)
    return text


# The handler's filter and the two formats.


class CallContextFilter(logging.Filter):
    """Copies the call's fields (`tenant`, `call_id`, `persona`) onto every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        record.tenant = context.tenant
        record.call_id = context.call_id
        record.persona = context.persona
        return True


def _fields(record: logging.LogRecord) -> LogContext:
    """The record's call fields (those of the current context if no filter set them)."""
    if not hasattr(record, "call_id"):
        return _context.get()
    return LogContext(record.tenant, record.call_id, record.persona)  # type: ignore[attr-defined]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, tenant, call_id, persona,
    and `exception` (the traceback) when there is one. Fields without a value are null."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        line |= {name: value or None for name, value in asdict(_fields(record)).items()}
        exception = self._exception_text(record)
        if exception:
            line["exception"] = redact(exception)
        return json.dumps(line, ensure_ascii=False, default=str)

    def _exception_text(self, record: logging.LogRecord) -> str:
        text = ""
        if record.exc_info:
            text = record.exc_text or self.formatException(record.exc_info)
            record.exc_text = text
        if record.stack_info:
            text = f"{text}\n{self.formatStack(record.stack_info)}".strip()
        return text


_LEVEL_COLOURS = {
    "DEBUG": "\x1b[2m",  # dim
    "INFO": "\x1b[32m",  # green
    "WARNING": "\x1b[33m",  # yellow
    "ERROR": "\x1b[31m",  # red
    "CRITICAL": "\x1b[1;31m",  # bold red
}
_RESET = "\x1b[0m"
_DIM = "\x1b[2m"
SHORT_CALL_ID = 8  # characters of the call id shown in development


class ConsoleFormatter(logging.Formatter):
    """Development lines: `12:03:04 INFO voice.consumer [joes call=1a2b3c4d… persona=receptionist]
    call started`, the level in colour (none when `NO_COLOR` is set or `colour` is False)."""

    def __init__(self, *args: Any, colour: bool | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.colour = not os.environ.get("NO_COLOR") if colour is None else colour

    def format(self, record: logging.LogRecord) -> str:
        time = dt.datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        level = f"{record.levelname:<7}"
        if self.colour:
            level = f"{_LEVEL_COLOURS.get(record.levelname, '')}{level}{_RESET}"
            time = f"{_DIM}{time}{_RESET}"
        context = self._context(_fields(record))
        line = f"{time} {level} {record.name}{context}: {record.getMessage()}"
        if record.exc_info:
            record.exc_text = record.exc_text or self.formatException(record.exc_info)
        if record.exc_text:
            line = f"{line}\n{record.exc_text}"
        if record.stack_info:
            line = f"{line}\n{self.formatStack(record.stack_info)}"
        return redact(line)

    @staticmethod
    def _context(context: LogContext) -> str:
        parts = [context.tenant] if context.tenant else []
        if context.call_id:
            short = context.call_id[:SHORT_CALL_ID]
            parts.append(
                f"call={short}…" if len(context.call_id) > SHORT_CALL_ID else f"call={short}"
            )
        if context.persona:
            parts.append(f"persona={context.persona}")
        return f" [{' '.join(parts)}]" if parts else ""


# Celery: a task logs in the context of whoever sent it.

_task_tokens: dict[str, Token[LogContext]] = {}


@signals.before_task_publish.connect(dispatch_uid="nexus_log_context_publish")
def _context_to_headers(headers: dict[str, Any] | None = None, **_: Any) -> None:
    context = _context.get()
    if headers is not None and context != NO_CONTEXT:
        headers[CELERY_HEADER] = asdict(context)


def _sent_context(task: Any, kwargs: dict[str, Any]) -> dict[str, str]:
    """The sender's context; the task's own arguments (a schema, a call id, directly or in a
    tool's `context`) complete it, and win over it."""
    sent = getattr(task.request, CELERY_HEADER, None)
    if not isinstance(sent, dict):  # `apply()` (run here, not sent) keeps them apart
        sent = (getattr(task.request, "headers", None) or {}).get(CELERY_HEADER)
    fields = {k: str(v) for k, v in (sent or {}).items() if k in LogContext.__annotations__ and v}
    tool_context = kwargs.get("context")
    arguments: dict[str, Any] = tool_context if isinstance(tool_context, dict) else kwargs
    given = {"tenant": arguments.get("schema_name"), "call_id": arguments.get("call_id")}
    own = {name: str(value) for name, value in given.items() if value}
    if any(fields.get(name, value) != value for name, value in own.items()):
        fields = {}  # sent while serving another call: its persona is not this task's
    return fields | own


@signals.task_prerun.connect(dispatch_uid="nexus_log_context_prerun")
def _bind_for_task(
    task_id: str = "", task: Any = None, kwargs: dict[str, Any] | None = None, **_: Any
) -> None:
    if task is None:
        return
    _task_tokens[task_id] = log_context_bind(**_sent_context(task, kwargs or {}))


@signals.task_postrun.connect(dispatch_uid="nexus_log_context_postrun")
def _unbind_after_task(task_id: str = "", **_: Any) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        with contextlib.suppress(ValueError, RuntimeError):  # bound in another context
            log_context_reset(token)
