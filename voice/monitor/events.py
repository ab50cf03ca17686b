"""What a call tells its tenant's staff: one channel-layer event per thing that happened.

Events go to the tenant's staff group and on, unchanged, to staff sockets; their dotted `type`
names the consumer's handler (`call.entry` -> `call_entry`). Times are UTC (ISO 8601); pages
show them in the tenant's time zone. Everything here is pure.
"""

import datetime as dt
from typing import Any

Event = dict[str, Any]

STAFF_GROUP = "staff-{schema}"  # channel-layer group of a tenant's staff sockets


def staff_group(schema_name: str) -> str:
    return STAFF_GROUP.format(schema=schema_name)


def call_started_event(*, call_id: str, persona: str, mode: str, started_at: dt.datetime) -> Event:
    return {
        "type": "call.started",
        "call_id": call_id,
        "persona": persona,
        "mode": str(mode),
        "started_at": started_at.isoformat(),
    }


def entry_event(
    *,
    call_id: str,
    sequence: int,
    role: str,
    text: str,
    offset_ms: int,
    interrupted: bool,
) -> Event:
    """A final transcript entry: `sequence` numbers it in its call (as stored), `offset_ms` is
    when it began, from the start of the call."""
    return {
        "type": "call.entry",
        "call_id": call_id,
        "sequence": sequence,
        "role": str(role),
        "text": text,
        "offset_ms": offset_ms,
        "interrupted": interrupted,
    }


def mode_event(*, call_id: str, mode: str, reason: str, engine: str | None) -> Event:
    return {
        "type": "call.mode",
        "call_id": call_id,
        "mode": str(mode),
        "reason": str(reason),
        "engine": engine,
    }


def tool_event(*, call_id: str, name: str, title: str, status: str) -> Event:
    return {
        "type": "call.tool",
        "call_id": call_id,
        "name": name,
        "title": title,
        "status": str(status),
    }


def transfer_event(*, call_id: str, reason: str) -> Event:
    """The agent handed the caller over to a person: staff are to take the call."""
    return {"type": "call.transfer", "call_id": call_id, "reason": reason}


def ended_event(*, call_id: str, reason: str) -> Event:
    return {"type": "call.ended", "call_id": call_id, "reason": str(reason)}
