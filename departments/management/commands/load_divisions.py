"""`manage.py load_divisions [--file PATH]`: load or refresh the national division tree."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from departments.loading import DEFAULT_FILE, DivisionFileError, load_divisions, summary_lines


class Command(BaseCommand):
    help = "Load or refresh provinces, cities and counties from the packaged division table."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--file",
            type=Path,
            default=DEFAULT_FILE,
            help="CSV with columns adcode,name (default: the packaged table).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        try:
            summary = load_divisions(path=options["file"])
        except DivisionFileError as exc:
            raise CommandError(str(exc)) from exc
        for line in summary_lines(summary):
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"OK ({time.monotonic() - started:.1f}s)"))
