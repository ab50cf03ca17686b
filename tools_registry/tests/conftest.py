"""Fixtures for tool tests: a real Celery worker on the real broker, and call contexts."""

import datetime as dt

import pytest
from celery.contrib.testing.worker import start_worker

from nexus_project.celery import app


@pytest.fixture
def celery_worker():
    """A real Celery worker (in a thread) consuming the test broker, for one test."""
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


def next_weekday(weekday: int, *, weeks_ahead: int = 1) -> dt.date:
    """A date `weeks_ahead` weeks from now falling on `weekday` (0 = Monday)."""
    today = dt.date.today()
    return today + dt.timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks_ahead)
