"""`manage.py sweep_deadlines [--today YYYY-MM-DD]`: one deadline sweep (beat runs it too)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from supervision.sweeps import sweep_deadlines


class Command(BaseCommand):
    help = "Mark due-soon and overdue clocks, raise and escalate supervision orders."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--today", help="sweep as of this date (YYYY-MM-DD), e.g. to replay a missed day"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options["today"]:
            try:
                today = dt.date.fromisoformat(options["today"])
            except ValueError as exc:
                raise CommandError("--today must be a date like 2026-11-30") from exc
        result = sweep_deadlines(today=today)
        self.stdout.write(str(result))
