"""Create the public tenant and its domains: `manage.py platform_setup [--domain HOST ...]`."""

from django.core.management.base import BaseCommand

from tenants_app.platform import platform_ensure


class Command(BaseCommand):
    help = "Create the platform's public tenant and its domains (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--domain", action="append", dest="domains")

    def handle(self, *args, domains: list[str] | None, **options) -> None:
        tenant = platform_ensure(domains=domains or ["localhost", "127.0.0.1"])
        self.stdout.write(f"platform: {', '.join(d.domain for d in tenant.domains.all())}")
