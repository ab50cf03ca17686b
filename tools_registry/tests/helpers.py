"""Helpers for tool tests: dates ahead, and calls for tools to work in."""

import datetime as dt

from django.utils import timezone

from voice.models import Call, CallStatus, Persona


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
