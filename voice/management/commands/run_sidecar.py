"""`python manage.py run_sidecar`: serve the PersonaPlex emulator until Ctrl+C."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from voice.sidecar import emulator


class Command(BaseCommand):
    help = "Run the PersonaPlex emulator (echo model, no GPU) on /api/chat."

    def add_arguments(self, parser: CommandParser) -> None:
        emulator.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        emulator.serve(options)
