"""`manage.py import_stations FILE.csv`: create or rename stations (header code,name,county)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from departments.stations import StationFileError, import_stations, read_station_file


class Command(BaseCommand):
    help = "Create or update stations from a CSV file with the header code,name,county."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV file: code (9 digits), name, county code")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = import_stations(read_station_file(options["file"]))
        except StationFileError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                _("所站：新增 %(created)d，更新 %(updated)d，未变 %(unchanged)d。")
                % {
                    "created": summary.created,
                    "updated": summary.updated,
                    "unchanged": summary.unchanged,
                }
            )
        )
