"""Close the calls a stopped server left open: `manage.py calls_close_stale [--older-than MIN]`.

Run it when no ASGI process is serving calls (`make run` does, before it starts daphne), or with
`--older-than` longer than any real call while others are serving.
"""

import datetime as dt

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_tenants.utils import get_tenant_model, schema_context

from voice.models import Call, CallStatus


class Command(BaseCommand):
    help = "End the calls still marked active (reason: server_restart)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--older-than", type=int, default=0, metavar="MINUTES")

    def handle(self, *args, older_than: int, **options) -> None:
        cutoff = timezone.now() - dt.timedelta(minutes=older_than)
        for tenant in get_tenant_model().objects.exclude(schema_name="public"):
            with schema_context(tenant.schema_name):
                closed = Call.objects.filter(
                    status=CallStatus.ACTIVE, started_at__lte=cutoff
                ).update(
                    status=CallStatus.ENDED, ended_at=timezone.now(), end_reason="server_restart"
                )
            if closed:
                self.stdout.write(f"{tenant.slug}: {closed} call(s) closed")
