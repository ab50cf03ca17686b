"""Writes to the voice models: widget keys (with their public routes), calls, transcripts."""

import datetime as dt
import secrets
import uuid

from django.db import connection, transaction
from django.utils import timezone

from tenants_app.db import current_schema
from tenants_app.models import Tenant, WidgetKeyRoute
from voice.models import Call, CallMode, CallStatus, EndReason, Persona, TranscriptEntry, WidgetKey
from voice.tasks import call_analyze

KEY_PREFIX = "pk_"
MAX_CALL_DURATION = dt.timedelta(hours=4)


@transaction.atomic
def widget_key_create(
    *, tenant: Tenant, persona: Persona, allowed_origins: list[str], label: str = ""
) -> WidgetKey:
    """Create a publishable key for `persona` and its public route to `tenant`.

    Must run inside `tenant`'s schema (the route is written to the shared public table).
    """
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    widget_key = WidgetKey.objects.create(
        key=key, label=label, persona=persona, allowed_origins=allowed_origins
    )
    WidgetKeyRoute.objects.create(key=key, tenant=tenant)
    return widget_key


def widget_key_revoke(*, widget_key: WidgetKey) -> None:
    """Deactivate a key; calls with it are refused from now on."""
    if widget_key.is_active:
        widget_key.is_active = False
        widget_key.revoked_at = timezone.now()
        widget_key.save(update_fields=["is_active", "revoked_at"])


@transaction.atomic
def widget_key_delete(*, widget_key: WidgetKey) -> None:
    """Delete a key together with its public route."""
    WidgetKeyRoute.objects.filter(key=widget_key.key).delete()
    widget_key.delete()


def call_start(
    *, tenant_id: int, persona_id: int, widget_key_id: int | None, mode: CallMode
) -> str | None:
    """Open a call row and return its id, or None when the tenant's concurrent-call limit is
    reached.

    Runs in the tenant's schema, in one statement (`voice_call_open`, migration 0007): the
    tenant's row is locked while the live calls are counted and the row is written, so the limit
    holds under a burst of callers in any number of processes. A call still marked active after
    `MAX_CALL_DURATION` was left by a crashed server: it holds no slot.
    """
    call_id, started_at = uuid.uuid4(), timezone.now()
    live_since = started_at - MAX_CALL_DURATION
    arguments = (tenant_id, call_id, persona_id, widget_key_id, mode, started_at, live_since)
    with connection.cursor() as cursor:
        cursor.execute("SELECT voice_call_open(%s, %s, %s, %s, %s, %s, %s)", arguments)
        (opened,) = cursor.fetchone()
    return str(call_id) if opened else None


def call_end(*, call_id: str, reason: EndReason, metrics: dict | None = None) -> None:
    """Close a call with its end reason and queue its analysis (once: the first reason stays).

    Runs in the call's tenant schema.
    """
    closed = Call.objects.filter(pk=call_id, status=CallStatus.ACTIVE).update(
        status=CallStatus.ENDED,
        ended_at=timezone.now(),
        end_reason=reason,
        metrics=metrics or {},
    )
    if closed:
        schema_name = current_schema()
        transaction.on_commit(
            lambda: call_analyze.delay(schema_name=schema_name, call_id=str(call_id))
        )


def calls_stale_close(*, started_before: dt.datetime) -> int:
    """End the calls a stopped server left marked active (`server_restart`); how many.

    Runs in the tenant's schema.
    """
    return Call.objects.filter(status=CallStatus.ACTIVE, started_at__lte=started_before).update(
        status=CallStatus.ENDED, ended_at=timezone.now(), end_reason=EndReason.SERVER_RESTART
    )


def call_mode_set(*, call_id: str, mode: CallMode) -> None:
    Call.objects.filter(pk=call_id).update(mode=mode)


def transcript_entry_add(
    *,
    call_id: str,
    sequence: int,
    role: str,
    text: str,
    start_ms: int,
    end_ms: int,
    interrupted: bool = False,
) -> TranscriptEntry:
    """Store one final transcript entry."""
    return TranscriptEntry.objects.create(
        call_id=call_id,
        sequence=sequence,
        role=role,
        text=text,
        start_ms=max(start_ms, 0),
        end_ms=max(end_ms, start_ms, 0),
        interrupted=interrupted,
    )


def call_needs_human_mark(*, call_id: str) -> None:
    """Flag a call for staff: the agent handed the caller over to a person."""
    Call.objects.filter(pk=call_id).update(needs_human=True)
