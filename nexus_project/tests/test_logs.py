"""Log lines: the call's fields on every line, the two formats, secrets blanked, Celery tasks."""

import json
import logging
import os
import subprocess
import sys

from django.conf import settings

from nexus_project.celery import app
from nexus_project.logs import (
    CELERY_HEADER,
    CallContextFilter,
    ConsoleFormatter,
    JsonFormatter,
    LogContext,
    log_context,
    log_context_current,
    redact,
    secrets_redact,
)
from nexus_project.tests.log_capture import captured_logs

CALL_ID = "1a2b3c4d-0000-4000-8000-000000000001"
GEMINI_KEY = "AIzaSy-test-gemini-key-0123456789"
WIDGET_KEY = "pk_4PbZq9Xw1Lr7Tt0YvB3mN8sK2dHfGjQe"

logger = logging.getLogger("voice.tests.logs")


def a_record(message: str, *args: object, level: int = logging.INFO, exc_info=None):
    record = logging.LogRecord("voice.consumer", level, __file__, 1, message, args, exc_info)
    CallContextFilter().filter(record)
    return record


def test_a_line_carries_the_context_it_was_logged_in_and_no_other():
    with captured_logs() as logs:
        with log_context(tenant="joes", call_id=CALL_ID, persona="receptionist"):
            logger.info("inside")
        logger.info("outside")

    inside, outside = logs.lines()
    assert (inside["tenant"], inside["call_id"], inside["persona"]) == (
        "joes",
        CALL_ID,
        "receptionist",
    )
    assert (outside["tenant"], outside["call_id"], outside["persona"]) == (None, None, None)
    assert log_context_current() == LogContext()


def test_the_json_format_is_one_object_per_line_with_the_exception_text():
    with captured_logs() as logs:
        with log_context(tenant="joes", call_id=CALL_ID):
            try:
                raise RuntimeError("the sidecar\nwent away")
            except RuntimeError:
                logger.exception("a stage failed: %s", "decode")

    assert len(logs.text.splitlines()) == 1
    [line] = logs.lines()
    assert set(line) == {
        "time",
        "level",
        "logger",
        "message",
        "tenant",
        "call_id",
        "persona",
        "exception",
    }
    assert (line["level"], line["logger"], line["message"]) == (
        "ERROR",
        "voice.tests.logs",
        "a stage failed: decode",
    )
    assert line["time"].endswith("+00:00")
    assert "RuntimeError: the sidecar\nwent away" in line["exception"]


def test_the_console_format_colours_the_level_and_shows_the_call_compactly():
    with log_context(tenant="joes", call_id=CALL_ID, persona="receptionist"):
        record = a_record("call started: %s mode", "text", level=logging.WARNING)
    line = ConsoleFormatter(colour=True).format(record)
    plain = ConsoleFormatter(colour=False).format(record)

    assert "\x1b[33mWARNING" in line  # yellow
    assert line.endswith(
        " voice.consumer [joes call=1a2b3c4d… persona=receptionist]: call started: text mode"
    )
    assert "\x1b[" not in plain
    assert (
        ConsoleFormatter(colour=True)
        .format(a_record("boom", level=logging.ERROR))
        .count("\x1b[31mERROR")
    )


def test_the_gemini_key_and_tenant_secrets_are_blanked_and_widget_keys_cut(settings):
    settings.GEMINI_API_KEY = GEMINI_KEY
    secrets_redact(["Bearer s3cret-from-a-tenant", "short"])
    try:
        raise ValueError(f"GET https://gemini.example/v1?key={GEMINI_KEY} refused")
    except ValueError:
        error = sys.exc_info()
    record = a_record(
        "key %s, header %s, widget %s",
        GEMINI_KEY,
        "Bearer s3cret-from-a-tenant",
        WIDGET_KEY,
        exc_info=error,
    )

    for formatted in (JsonFormatter().format(record), ConsoleFormatter().format(record)):
        assert GEMINI_KEY not in formatted
        assert "s3cret-from-a-tenant" not in formatted
        assert WIDGET_KEY not in formatted
        assert "pk_4PbZ…" in formatted
        assert formatted.count("[redacted]") == 3  # twice in the message, once in the exception
    assert redact("a short value stays short") == "a short value stays short"


@app.task(name="tests.logs.log_in_task")
def log_in_task(*, schema_name: str, call_id: str) -> None:
    logger.warning("working for %s", schema_name)


def test_a_celery_task_logs_with_the_tenant_and_call_of_its_arguments():
    with captured_logs() as logs:
        log_in_task.apply(kwargs={"schema_name": "joes", "call_id": CALL_ID})
        logger.info("after the task")

    working, after = [line for line in logs.lines() if line["logger"] == "voice.tests.logs"]
    assert working["message"] == "working for joes"
    assert (working["tenant"], working["call_id"]) == ("joes", CALL_ID)
    assert (after["tenant"], after["call_id"]) == (None, None)  # unbound once the task is done


def test_a_celery_task_keeps_the_persona_of_the_call_that_sent_it_and_its_own_ids():
    sent = {"tenant": "joes", "call_id": CALL_ID, "persona": "receptionist"}
    with captured_logs() as logs:
        for schema_name, call_id in (("joes", CALL_ID), ("pizza", "another-call")):
            log_in_task.apply(
                kwargs={"schema_name": schema_name, "call_id": call_id},
                headers={CELERY_HEADER: sent},
            )

    same, other = [line for line in logs.lines() if line["logger"] == "voice.tests.logs"]
    assert (same["tenant"], same["call_id"], same["persona"]) == ("joes", CALL_ID, "receptionist")
    assert (other["tenant"], other["call_id"], other["persona"]) == ("pizza", "another-call", None)


def log_line_of_a_process(**environment: str) -> str:
    """What a process on the project's settings writes for one warning in a call."""
    script = (
        "import django, logging; django.setup();"
        "from nexus_project.logs import log_context_bind;"
        "log_context_bind(tenant='joes', call_id='c-1', persona='receptionist');"
        "logging.getLogger('voice.consumer').warning('call started')"
    )
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "NEXUS_DATA_DIR")}
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={
            **keep,
            "DJANGO_SETTINGS_MODULE": "nexus_project.settings",
            "DJANGO_SECRET_KEY": "a-key-for-this-test-only",
            **environment,
        },
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stderr.strip()


def test_production_writes_json_and_development_colours_unless_told_json():
    production = json.loads(log_line_of_a_process())
    development = log_line_of_a_process(DJANGO_DEBUG="1")
    told_json = json.loads(log_line_of_a_process(DJANGO_DEBUG="1", LOG_FORMAT="json"))

    assert (production["message"], production["call_id"]) == ("call started", "c-1")
    assert "\x1b[33mWARNING" in development
    assert development.endswith("voice.consumer [joes call=c-1 persona=receptionist]: call started")
    assert told_json["persona"] == "receptionist"
