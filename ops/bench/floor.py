"""The generator's baseline: PostgreSQL alone loading the rows the generator wrote.

Right after `generate_workload`, the tables it fills are copied out to files. Then, in one
transaction that is rolled back at the end, those tables are emptied and loaded again from the
files the way the generator loads them (`ops.bench.loading`): its session settings, its secondary
indexes dropped and built again after the rows, the rollups into an empty table with the primary
key built after them. No Python builds a row: the client only hands file blocks to COPY. The time
it takes is the floor under any generator that writes these rows into this schema in one
transaction on this machine, however it makes them: the generator's rate can come near it, never
pass it.

PostgreSQL only (COPY); the rollback leaves the generated database as it was.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from ops.bench import loading
from ops.bench.cpu import machine_cpu

BLOCK = 1 << 20
# The tables the generator writes, in the order it loads them (`ops.workload._generate`): the
# setup rows, then the case tables with their secondary indexes dropped, built again after the
# rows; then the rollups, into an empty table whose primary key is built after them.
SETUP = ("accounts_user", "businesses_business")
INDEXED = (
    "cases_case",
    "cases_caseevent",
    "cases_deadline",
    "supervision_supervisionorder",
    "supervision_duesoonnotice",
)
ROLLUPS = "supervision_rollup"
TABLES = (*SETUP, *INDEXED, ROLLUPS)


def measure(cases: int, directory: Path | None = None) -> dict[str, Any]:
    """Load the generated tables again from files in a transaction rolled back at the end: the
    seconds of each phase, the machine's CPU seconds, and the rate for `cases` (the cases the
    tables hold)."""
    if connection.vendor != "postgresql":
        raise ValueError("the loading floor is measured on PostgreSQL only")
    with tempfile.TemporaryDirectory(prefix="floor-", dir=directory) as folder:
        files = {table: _export(table, Path(folder) / f"{table}.copy") for table in TABLES}
        size = sum(path.stat().st_size for path, _rows in files.values())
        phases, busy = _load({table: path for table, (path, _rows) in files.items()})
    seconds = sum(phases.values())
    return {
        "cases": cases,
        "rows": {table: rows for table, (_path, rows) in files.items()},
        "copy_mb": round(size / 2**20),
        "phases_s": {name: round(value, 1) for name, value in phases.items()},
        "seconds": round(seconds, 1),
        "cases_per_s": round(cases / seconds) if seconds else None,
        "machine_cpu_s": round(busy, 1),
    }


def _export(table: str, path: Path) -> tuple[Path, int]:
    """The table's rows as COPY text in a file, and how many."""
    rows = 0
    with connection.cursor() as cursor, path.open("wb") as out:
        quoted = connection.ops.quote_name(table)
        with cursor.cursor.copy(f"COPY {quoted} TO STDOUT") as copy:
            for block in copy:
                out.write(block)
                rows += bytes(block).count(b"\n")
    return path, rows


class _Undo(Exception):
    """Ends the load's transaction with a rollback."""


def _load(files: dict[str, Path]) -> tuple[dict[str, float], float]:
    phases: dict[str, float] = {}
    busy_before = machine_cpu()[0]
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                names = ", ".join(connection.ops.quote_name(t) for t in TABLES)
                loading.run_deferred_checks(cursor)  # TRUNCATE refuses pending trigger events
                cursor.execute(f"TRUNCATE {names} CASCADE")
            with loading.bulk_session():
                started = time.monotonic()
                with loading.deferred_indexes(INDEXED, enabled=True):
                    for table in (*SETUP, *INDEXED):
                        _copy_in(table, files[table])
                    phases["copy"] = time.monotonic() - started
                    started = time.monotonic()
                phases["indexes"] = time.monotonic() - started
                started = time.monotonic()
                with loading.deferred_primary_key(ROLLUPS):
                    _copy_in(ROLLUPS, files[ROLLUPS])
                phases["rollups"] = time.monotonic() - started
                # As the generator ends (`loading.finish_tables`, `_write_rollups`): fresh
                # statistics for the planner.
                started = time.monotonic()
                with connection.cursor() as cursor:
                    for table in TABLES:
                        cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
                phases["analyze"] = time.monotonic() - started
            raise _Undo
    except _Undo:
        pass
    return phases, machine_cpu()[0] - busy_before


def _copy_in(table: str, path: Path) -> None:
    with connection.cursor() as cursor, path.open("rb") as source:
        quoted = connection.ops.quote_name(table)
        with cursor.cursor.copy(f"COPY {quoted} FROM STDIN") as copy:
            while block := source.read(BLOCK):
                copy.write(block)
