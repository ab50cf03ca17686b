"""Create or update tenants from `config.yaml` files: `manage.py tenant_onboard PATH [PATH ...]`.

For each admin with no password yet it prints a one-time set-password link on the tenant's host.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tenants_app.config import ConfigError, config_load
from tenants_app.passwords import set_password_links
from tenants_app.services import tenant_onboard


class Command(BaseCommand):
    help = "Create or update tenants from config.yaml files (idempotent, all or nothing)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument(
            "--scheme",
            choices=["http", "https"],
            default="http" if settings.DEBUG else "https",
            help="of the set-password links (default: http in development, else https)",
        )
        parser.add_argument(
            "--port", type=int, help="of the set-password links, if not the scheme's default"
        )

    def handle(self, *args, paths: list[Path], scheme: str, port: int | None, **options) -> None:
        for path in paths:
            try:
                result = tenant_onboard(config=config_load(path))
            except ConfigError as error:
                raise CommandError(str(error)) from error
            summary = "; ".join(result.changes) or "unchanged"
            self.stdout.write(f"{result.tenant.slug}: {summary}")
            for link in set_password_links(
                tenant=result.tenant, scheme=scheme, port=str(port or "")
            ):
                self.stdout.write(f"  {link.username} sets a password at {link.url}")
