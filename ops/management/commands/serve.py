"""`make run`: migrate, load the divisions, seed the demo, then run the web server together with a
Celery worker + beat on the configured broker (a server-less filesystem broker by default)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from departments.models import NATIONAL_CODE, Department


class Command(BaseCommand):
    help = "Start the whole platform: web server, Celery worker and beat."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-worker", action="store_true", help="web server only")

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        if not Department.objects.filter(code=NATIONAL_CODE).exists():
            call_command("load_divisions")
        call_command("seed_demo")
        # Mark late clocks and raise their supervision orders now rather than at the first beat.
        call_command("sweep_deadlines", stdout=io.StringIO())
        children = [] if options["no_worker"] else [self._start_worker()]
        children.append(self._start_web(options["port"]))
        self.stdout.write(
            self.style.SUCCESS(f"\nOpen12315 is running at http://localhost:{options['port']}/")
            + f"\n  API docs: http://localhost:{options['port']}/api/v1/docs"
            + f"\n  admin:    http://localhost:{options['port']}/admin/"
            + "\nPress Ctrl+C to stop.\n"
        )
        self._wait(children)

    def _start_worker(self) -> subprocess.Popen:
        command = [
            sys.executable, "-m", "celery", "-A", "open12315", "worker", "-B",
            "--loglevel=warning", "--concurrency=1",
            "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME,
        ]  # fmt: skip
        return subprocess.Popen(command)  # noqa: S603 - fixed argument list

    def _start_web(self, port: int) -> subprocess.Popen:
        command = [
            sys.executable, "-m", "gunicorn", "open12315.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", os.environ.get("WEB_WORKERS", "2"),
            "--access-logfile", "-", "--timeout", "60",
        ]  # fmt: skip
        return subprocess.Popen(command)  # noqa: S603 - fixed argument list

    def _wait(self, children: list[subprocess.Popen]) -> None:
        def stop(signum, frame):
            for child in children:
                if child.poll() is None:
                    child.terminate()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        stop(None, None)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
