"""The calls in progress now, for a staff socket that has just connected.

Runs in the tenant's schema (DB thread). A call still marked active after `MAX_CALL_DURATION` was
left by a stopped server: it is not in progress.
"""

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from tools_registry.models import ToolInvocation
from voice.models import Call, CallStatus, TranscriptEntry
from voice.monitor.events import Event, call_started_event, entry_event, transfer_event
from voice.services import MAX_CALL_DURATION
from voice.tools.calls import TransferToHuman


def calls_live() -> QuerySet[Call]:
    """The calls in progress: marked active, and started within `MAX_CALL_DURATION`."""
    return Call.objects.filter(
        status=CallStatus.ACTIVE, started_at__gte=timezone.now() - MAX_CALL_DURATION
    )


def calls_in_progress_events() -> list[Event]:
    """Each call in progress, oldest first, as the events its staff would have had: its start,
    its transcript so far, and its transfer to a person (with the agent's reason)."""
    calls = (
        calls_live()
        .select_related("persona")
        .prefetch_related(
            Prefetch("transcript", queryset=TranscriptEntry.objects.order_by("sequence"))
        )
        .order_by("started_at")
    )
    reasons = dict(
        ToolInvocation.objects.filter(
            call__in=calls.filter(needs_human=True), tool_name=TransferToHuman.name
        )
        .order_by("started_at")
        .values_list("call_id", "arguments__reason")
    )
    events: list[Event] = []
    for call in calls:
        call_id = str(call.pk)
        events.append(
            call_started_event(
                call_id=call_id,
                persona=call.persona.name,
                mode=call.mode,
                started_at=call.started_at,
            )
        )
        events += [
            entry_event(
                call_id=call_id,
                sequence=entry.sequence,
                role=entry.role,
                text=entry.text,
                offset_ms=entry.start_ms,
                interrupted=entry.interrupted,
            )
            for entry in call.transcript.all()
        ]
        if call.needs_human:
            events.append(transfer_event(call_id=call_id, reason=reasons.get(call.pk) or ""))
    return events
