"""A call's recording in Django's storage (`Call.recording`): stored when the call ends, opened
for staff, deleted when its tenant's retention is over.

The storage is the field's (`STORAGES["default"]`: local disk under `MEDIA_ROOT`, or an
S3-compatible bucket, docs/operations.md). Files are handed over streamed, never read whole, and
are reached only through the staff's download view, never by a public URL.
"""

import asyncio
import logging
from pathlib import Path

from django.core.files import File
from django.core.files.storage import Storage

from tenants_app.db import schema_run
from voice.models import Call

logger = logging.getLogger(__name__)


def recording_storage() -> Storage:
    return Call._meta.get_field("recording").storage


async def call_recording_store(*, schema_name: str, call_id: str, path: Path) -> str | None:
    """Put the finished file at `path` into storage as the call's recording; its name there, or
    None when the call's row is gone. Storage is written off the database thread."""
    name = await schema_run(schema_name, _recording_name, call_id=call_id)
    if name is None:
        return None
    saved = await asyncio.to_thread(_upload, name, path)
    if not await schema_run(schema_name, _recording_set, call_id=call_id, name=saved):
        await asyncio.to_thread(recording_storage().delete, saved)
        return None
    return saved


def call_recording_delete(*, call: Call) -> None:
    """Delete the call's recording from storage, then from its row (in the call's schema)."""
    recording_storage().delete(call.recording.name)
    Call.objects.filter(pk=call.pk).update(recording="")
    call.recording.name = ""


def _recording_name(*, call_id: str) -> str | None:
    """Where the call's recording goes (`recordings/<schema>/<YYYY>/<MM>/<call id>.ogg`)."""
    call = Call.objects.filter(pk=call_id).first()
    if call is None:
        return None
    return call.recording.field.generate_filename(call, f"{call_id}.ogg")


def _recording_set(*, call_id: str, name: str) -> bool:
    return Call.objects.filter(pk=call_id).update(recording=name) == 1


def _upload(name: str, path: Path) -> str:
    with path.open("rb") as file:
        return recording_storage().save(name, File(file, name=name))
