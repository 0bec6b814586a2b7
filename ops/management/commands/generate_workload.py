"""`manage.py generate_workload --cases N --seed S [--days D] [--until DATE] [--force]`.

Fills the database with a national-scale workload (see `ops.workload`): N cases received over the
D days before DATE, in every state, with their events, clocks and supervision orders.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops.workload import WorkloadError, generate_workload


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--until must be a date like 2026-11-30, not {value!r}") from exc


class Command(BaseCommand):
    help = "Generate N realistic cases (deterministic for a seed); refuses a non-generated DB."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, required=True, help="how many cases (> 0)")
        parser.add_argument("--seed", type=int, default=12315, help="random seed (default 12315)")
        parser.add_argument(
            "--days", type=int, default=365, help="received over this many days (default 365)"
        )
        parser.add_argument(
            "--until",
            help="the state is the one at midnight starting this date (default: today)",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="add generated cases even if the database holds cases filed by others",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="processes building rows on PostgreSQL (default: one per CPU)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        until = _date(options["until"]) if options["until"] else None
        if options["workers"] < 1:
            raise CommandError("--workers must be at least 1")
        try:
            summary = generate_workload(
                cases=options["cases"],
                seed=options["seed"],
                days=options["days"],
                until=until,
                force=options["force"],
                workers=options["workers"],
                progress=self.stdout.write,
            )
        except WorkloadError as exc:
            raise CommandError(str(exc)) from exc
        for note in summary.notes:
            self.stdout.write(self.style.WARNING(note))
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary.cases:,} cases (ids from {summary.first_id}), {summary.events:,} "
                f"events, {summary.deadlines:,} clocks, {summary.orders:,} supervision orders, "
                f"{summary.notices:,} due-soon notices, {summary.consumers:,} consumers, "
                f"{summary.businesses:,} businesses in {summary.seconds:.1f}s "
                f"({summary.rate:,.0f} cases/s)"
            )
        )
