"""Onboard the example tenants with development logins and keys, and print how to use them."""

from django.core.management.base import BaseCommand, CommandError

from tenants_app.demo import DEMO_PASSWORD, demo_setup


class Command(BaseCommand):
    help = "Development only: example tenants, demo logins and widget keys."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--reset",
            action="store_true",
            help="apply the example configs and demo passwords again, over any admin's changes",
        )

    def handle(self, *args, port: int, reset: bool, **options) -> None:
        origins = [f"http://localhost:{port}", f"http://127.0.0.1:{port}"]
        base = f"http://localhost:{port}"
        lines = [
            f"Platform admin  {base}/admin/  platform-admin / {DEMO_PASSWORD}",
        ]
        try:
            demos = demo_setup(origins=origins, reset=reset)
        except RuntimeError as error:
            raise CommandError(str(error)) from error
        for demo in demos:
            site = f"http://{demo.domain}:{port}"
            lines += [
                f"{demo.name} ({demo.slug})",
                f"  admin         {site}/admin/  {demo.slug}-admin / {DEMO_PASSWORD}",
                f"  support       {site}/admin/  {demo.slug}-support / {DEMO_PASSWORD}",
                f"  widget key    {demo.widget_key}  (agent {demo.persona})",
            ]
        self.stdout.write("\n".join(lines))
