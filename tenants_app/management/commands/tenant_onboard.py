"""Create or update tenants from `config.yaml` files: `manage.py tenant_onboard PATH [PATH ...]`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tenants_app.config import ConfigError, config_load
from tenants_app.services import tenant_onboard


class Command(BaseCommand):
    help = "Create or update tenants from config.yaml files (idempotent, all or nothing)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", type=Path)

    def handle(self, *args, paths: list[Path], **options) -> None:
        for path in paths:
            try:
                result = tenant_onboard(config=config_load(path))
            except ConfigError as error:
                raise CommandError(str(error)) from error
            summary = "; ".join(result.changes) or "unchanged"
            self.stdout.write(f"{result.tenant.slug}: {summary}")
