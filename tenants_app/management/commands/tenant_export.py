"""Write a tenant's configuration as `config.yaml`: `manage.py tenant_export SLUG [-o PATH]`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tenants_app.config import config_dump
from tenants_app.models import Tenant
from tenants_app.selectors import tenant_config_export, tenant_get
from voice.models import Persona


class Command(BaseCommand):
    help = "Export a tenant in the config.yaml shape that tenant_onboard reads."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--agent", help="persona slug (default: the first one)")
        parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")

    def handle(self, *args, slug: str, agent: str | None, output: Path | None, **options):
        try:
            config = tenant_config_export(tenant=tenant_get(slug=slug), agent_slug=agent)
        except (Tenant.DoesNotExist, Persona.DoesNotExist) as error:
            raise CommandError(str(error)) from error
        text = config_dump(config)
        if output:
            output.write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")
