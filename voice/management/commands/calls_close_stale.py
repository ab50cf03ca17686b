"""Close the calls a stopped server left open: `manage.py calls_close_stale [--older-than MIN]`.

Run it when no ASGI process is serving calls (`make run` does, before it starts daphne), or with
`--older-than` longer than any real call while others are serving.
"""

import datetime as dt

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, get_tenant_model

from tenants_app.db import tenant_schema
from voice.services import calls_stale_close


class Command(BaseCommand):
    help = "End the calls still marked active (reason: server_restart)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--older-than", type=int, default=0, metavar="MINUTES")

    def handle(self, *args, older_than: int, **options) -> None:
        started_before = timezone.now() - dt.timedelta(minutes=older_than)
        for tenant in get_tenant_model().objects.exclude(schema_name=get_public_schema_name()):
            with tenant_schema(tenant.schema_name):
                closed = calls_stale_close(started_before=started_before)
            if closed:
                self.stdout.write(f"{tenant.slug}: {closed} call(s) closed")
