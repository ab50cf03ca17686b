"""Recordings kept only as long as their tenant says (`Tenant.recording_retention_days`).

A call's recording is older than that once the call started that many days ago; it is then
deleted from storage and from the call's row, in every tenant's schema. Run every hour by Celery
beat (`recordings.expire`, `CELERY_BEAT_SCHEDULE`).
"""

import datetime as dt
import logging

from django_tenants.utils import get_public_schema_name

from tenants_app.db import tenant_schema
from tenants_app.models import Tenant
from voice.models import Call
from voice.recording.storage import call_recording_delete

logger = logging.getLogger(__name__)


def call_recordings_expire(*, now: dt.datetime) -> int:
    """Delete every recording past its tenant's retention at `now`; how many were deleted.
    A recording that cannot be deleted now is logged and tried again on the next run."""
    deleted = 0
    for tenant in Tenant.objects.exclude(schema_name=get_public_schema_name()):
        started_before = now - dt.timedelta(days=tenant.recording_retention_days)
        with tenant_schema(tenant.schema_name):
            expired = Call.objects.filter(started_at__lt=started_before).exclude(recording="")
            for call in expired.only("pk", "recording"):
                try:
                    call_recording_delete(call=call)
                    deleted += 1
                except Exception:
                    logger.exception("recording of call %s could not be deleted", call.pk)
    if deleted:
        logger.info("recordings past their retention deleted: %d", deleted)
    return deleted
