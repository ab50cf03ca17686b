"""Fixtures for tool tests: a real Celery worker on the real broker, and call contexts."""

import datetime as dt
import logging

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from nexus_project.celery import app
from voice.models import Call, CallStatus, Persona


@pytest.fixture
def celery_worker():
    """A real Celery worker (in a thread) consuming the test broker, for one test.

    Tasks left queued by earlier tests (their calls' analyses) are dropped first, so the worker
    runs only what this test sends.
    """
    app.control.purge()
    root_level = logging.root.level  # the test worker lowers it to ERROR: give it back after
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield
    logging.root.setLevel(root_level)


def next_weekday(weekday: int, *, weeks_ahead: int = 1) -> dt.date:
    """A date `weeks_ahead` weeks from now falling on `weekday` (0 = Monday)."""
    today = dt.date.today()
    return today + dt.timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks_ahead)


def finished_call(persona: Persona) -> Call:
    """A call row for a tool to work in, already ended: it holds no concurrent-call slot."""
    call = Call.objects.create(persona=persona)
    call.status, call.ended_at, call.end_reason = CallStatus.ENDED, timezone.now(), "test"
    call.save()
    return call
