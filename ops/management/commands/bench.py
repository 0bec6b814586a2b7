"""`manage.py bench` (`make bench`): the benchmark suite, each measurement beside its baseline.

On PostgreSQL (the bench database, created if missing, rebuilt every run unless --reuse): intake
through gunicorn against the raw psycopg ceiling, intake at a fixed rate, the case page, the staff
queue page, the monitoring overview at three levels, and the deadline sweep twice; on SQLite the
intake part against raw sqlite3. Each database is measured by a child process whose
DATABASE_URL points at it; gunicorn runs as that child's subprocess and is stopped at the end.
Writes var/bench/latest.json and var/bench/latest.txt and prints the table.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_open12315"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
FULL_CASES = 1_000_000
QUICK_CASES = 20_000
SQLITE_CASES = 100_000


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def with_query(url: str, query: str) -> str:
    parts = urlsplit(url)
    joined = f"{parts.query}&{query}" if parts.query else query
    return urlunsplit(parts._replace(query=joined))


def recreate_postgresql(url: str, *, reuse: bool) -> None:
    """Create the bench database (psycopg, through the maintenance database); drop it first
    unless reused. Only a database whose name contains "bench" is ever dropped."""
    import psycopg

    name = database_name(url)
    if not name or "bench" not in name:
        raise CommandError(
            f"refusing to use {name!r} as the bench database: its name must contain 'bench'"
        )
    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres", query=""))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not reuse:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def redis_url(wanted: str) -> str:
    """The Redis URL for the web tier's cache (rate limits), or "" when Redis does not answer."""
    if wanted in ("", "none"):
        return ""
    try:
        import redis

        redis.Redis.from_url(wanted, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001 - no Redis: the web tier falls back to local memory
        return ""
    return wanted


class Command(BaseCommand):
    help = "Benchmarks at national scale, each beside its raw baseline (writes var/bench/)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, help=f"dataset size (default {FULL_CASES:,})")
        parser.add_argument(
            "--quick", action="store_true", help=f"smoke run: {QUICK_CASES:,} cases, short phases"
        )
        parser.add_argument("--seconds", type=float, help="length of each load phase")
        parser.add_argument("--seed", type=int, default=12315)
        parser.add_argument(
            "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
        )
        parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help='"none": local memory')
        parser.add_argument(
            "--sqlite-cases", type=int, help=f"SQLite dataset (default {SQLITE_CASES:,})"
        )
        parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
        parser.add_argument("--no-postgresql", action="store_true", help="SQLite intake only")
        parser.add_argument(
            "--reuse", action="store_true", help="keep a bench database already generated"
        )
        parser.add_argument("--output", default="", help="directory (default var/bench)")
        # A run on one database, in a child process (set by the parent).
        parser.add_argument("--child-options", help=argparse_suppress())
        parser.add_argument("--child-result", help=argparse_suppress())

    def handle(self, *args: Any, **options: Any) -> None:
        if options["child_options"]:
            self._child(options)
            return
        self._parent(options)

    # --- the parent: one child per database, then the report ---------------------------------

    def _parent(self, options: dict[str, Any]) -> None:
        from ops.bench import report

        quick = options["quick"]
        cases = options["cases"] or (QUICK_CASES if quick else FULL_CASES)
        if cases <= 0:
            raise CommandError("--cases must be a positive number")
        seconds = options["seconds"] or (8.0 if quick else 20.0)
        started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        cache = redis_url(options["redis_url"])
        broker = cache or "memory://"
        common = {
            "seed": options["seed"],
            "seconds": seconds,
            "warmup": 2.0 if quick else 3.0,
            "redis_url": cache,
            "reuse": options["reuse"],
        }
        results = []
        if not options["no_postgresql"]:
            url = options["database_url"]
            recreate_postgresql(url, reuse=options["reuse"])
            child = {"target": "postgresql", "cases": cases}
            # The web tier keeps its connections, as a production deployment would.
            web_url = with_query(url, "conn_max_age=600")
            results.append(
                self._run_child(url, {**common, **child, "web_database_url": web_url}, broker)
            )
        if not options["no_sqlite"]:
            path = self._sqlite_file(options["reuse"])
            url = f"sqlite:///{path}"
            child = {
                "target": "sqlite",
                "cases": options["sqlite_cases"] or min(cases, SQLITE_CASES),
            }
            results.append(
                self._run_child(
                    url, {**common, **child, "web_database_url": url, "reads": False}, broker
                )
            )
        directory = Path(options["output"] or Path(settings.VAR_DIR) / "bench")
        json_path, text_path = report.write(results, directory, started=started)
        self.stdout.write(report.render(results))
        self.stdout.write(self.style.SUCCESS(f"wrote {json_path} and {text_path}"))

    def _sqlite_file(self, reuse: bool) -> Path:
        directory = Path(settings.VAR_DIR) / "bench"
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "bench.sqlite3"
        if not reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return path

    def _run_child(
        self, url: str, child_options: dict[str, Any], broker: str = "memory://"
    ) -> dict[str, Any]:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
            result_path = Path(handle.name)
        command = [
            sys.executable, "manage.py", "bench",
            "--child-options", json.dumps(child_options), "--child-result", str(result_path),
        ]  # fmt: skip
        child = subprocess.Popen(  # noqa: S603 - fixed argument list
            command,
            cwd=settings.BASE_DIR,
            # The bench's own broker: its delivery tasks never reach a worker of another database.
            env={**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": broker},
        )
        try:
            code = child.wait()
        except KeyboardInterrupt:
            child.send_signal(signal.SIGTERM)
            child.wait(timeout=60)
            raise
        try:
            if code != 0:
                raise CommandError(f"the {child_options['target']} bench failed (exit {code})")
            return dict(json.loads(result_path.read_text()))
        finally:
            result_path.unlink(missing_ok=True)

    # --- the child: one database ----------------------------------------------------------------

    def _child(self, options: dict[str, Any]) -> None:
        from ops.bench.runner import Options, run

        def stop(signum: int, frame: object) -> None:
            raise SystemExit(1)  # unwinds: gunicorn and worker pools are stopped on the way out

        signal.signal(signal.SIGTERM, stop)
        fields = {f.name for f in dataclasses.fields(Options)}
        given = json.loads(options["child_options"])
        run_options = Options(**{k: v for k, v in given.items() if k in fields})
        result = run(run_options, self.stdout.write)
        Path(options["child_result"]).write_text(json.dumps(result, default=str))


def argparse_suppress() -> str:
    import argparse

    return argparse.SUPPRESS
