"""`manage.py rebuild_rollups [--check]`: recount the monitoring overview's rollups from the cases,
or (`--check`) audit them: list every cell that differs from a recount and exit non-zero."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from supervision.rollups import differences, rebuild_rollups

SHOWN = 50


class Command(BaseCommand):
    help = "Rebuild the monitoring rollups from the cases, or check them (--check)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="change nothing; list the rows that differ from a recount (exit 1 if any)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        if not options["check"]:
            rows = rebuild_rollups()
            self.stdout.write(f"{rows} rollup rows written in {time.monotonic() - started:.1f} s")
            return
        found = differences()
        for difference in found[:SHOWN]:
            self.stdout.write(str(difference))
        if len(found) > SHOWN:
            self.stdout.write(f"... and {len(found) - SHOWN} more")
        if found:
            raise CommandError(f"{len(found)} rollup rows differ from the cases")
        self.stdout.write(f"rollups are exact ({time.monotonic() - started:.1f} s)")
