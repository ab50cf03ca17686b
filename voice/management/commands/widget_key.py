"""Create a widget key: `manage.py widget_key --tenant SLUG --persona SLUG --origin ORIGIN`."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants_app.db import tenant_schema
from tenants_app.models import Tenant
from tenants_app.selectors import tenant_get
from voice.models import Persona
from voice.origins import origin_normalize
from voice.services import widget_key_create


class Command(BaseCommand):
    help = "Create a publishable widget key for a tenant's persona and print it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--persona", required=True, help="persona slug")
        parser.add_argument(
            "--origin", action="append", required=True, help="allowed origin (repeatable)"
        )
        parser.add_argument("--label", default="")

    def handle(self, *args, tenant: str, persona: str, origin: list[str], label: str, **options):
        try:
            origins = [origin_normalize(value) for value in origin]
            tenant_row = tenant_get(slug=tenant)
        except (ValidationError, Tenant.DoesNotExist) as error:
            raise CommandError(" ".join(getattr(error, "messages", [str(error)]))) from error
        with tenant_schema(tenant_row.schema_name):
            try:
                persona_row = Persona.objects.get(slug=persona)
            except Persona.DoesNotExist:
                raise CommandError(f"tenant {tenant!r} has no persona {persona!r}") from None
            widget_key = widget_key_create(
                tenant=tenant_row, persona=persona_row, allowed_origins=origins, label=label
            )
        self.stdout.write(widget_key.key)
