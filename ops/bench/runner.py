"""One bench run on one database (started by `manage.py bench` in a child process whose
DATABASE_URL is the bench database): prepare the data, start gunicorn, measure, stop it.

Every measurement runs beside its baseline in the same process, on the same data, minutes apart.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from cases.models import Case, Deadline
from cases.rules import local_date
from departments.models import NATIONAL_CODE, Department
from ops.bench import floor, intake, loadgen, reads
from ops.bench.cpu import CpuWindow, Groups, descendants, postgres_pids
from ops.bench.figures import Latency, cores_busy, cpu_ms_per_request, ratio
from ops.bench.loadgen import LoadResult
from ops.bench.server import Gunicorn
from ops.workload import generate_workload, generator_user
from workdays.calendar import add_working_days

CONSUMERS = 2000
PAYLOADS = 5000
CASE_PAGES = 1000
MAX_SWEEPS = 6
READS = 200  # requests per page one at a time (fewer if the page is slow: see max_seconds)
KEEP_UP = 0.5  # run a page at the fixed rate only if it needs at most half of the workers
WORKBENCH_LEVELS = ("county", "city")  # the workbench queue pages measured in-process
WORKBENCH_CALLS = 20  # timed calls per workbench page, after one warm-up call


@dataclass(frozen=True)
class Options:
    target: str  # "postgresql" or "sqlite"
    cases: int
    seed: int = 12315
    seconds: float = 20.0
    warmup: float = 3.0
    connections: int = 16
    fixed_rate: float = 100.0
    read_rate: float = 20.0
    web_workers: int = 3
    web_database_url: str = ""
    redis_url: str = ""
    reuse: bool = False
    reads: bool = True
    floor: bool = True  # the generator's baseline (`ops.bench.floor`), PostgreSQL only


Progress = Callable[[str], None]


def machine() -> dict[str, Any]:
    """What the numbers were measured on, and how busy the machine already was."""
    started = time.perf_counter()
    total = 0
    for n in range(2_000_000):
        total += n
    probe = time.perf_counter() - started
    return {
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python_probe_ms": round(probe * 1000, 1),  # ~60-100 ms on an idle modern core
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def database_info() -> dict[str, Any]:
    info: dict[str, Any] = {"vendor": connection.vendor}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT version(), pg_database_size(current_database())")
            version, size = cursor.fetchone()
            info.update(version=version.split(",")[0], size_mb=round(size / 2**20))
            for name in ("shared_buffers", "work_mem", "synchronous_commit", "max_wal_size"):
                cursor.execute(f"SHOW {name}")
                info[name] = cursor.fetchone()[0]
    info["cases"] = Case.objects.count()
    info["open_clocks"] = Deadline.objects.filter(met_at__isnull=True, cancelled=False).count()
    return info


def prepare(options: Options, progress: Progress) -> dict[str, Any]:
    """Migrate, load the divisions, generate the workload (unless reused)."""
    started = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    if not Department.objects.filter(code=NATIONAL_CODE).exists():
        call_command("load_divisions", verbosity=0)
    prepared: dict[str, Any] = {"migrate_and_divisions_s": round(time.monotonic() - started, 1)}
    author = generator_user()
    present = Case.objects.filter(created_by=author).count() if author else 0
    if options.reuse and present >= options.cases:
        prepared["generated"] = {"reused": present}
        return prepared
    summary = generate_workload(
        cases=options.cases,
        seed=options.seed,
        force=True,
        workers=os.cpu_count() or 1,
        progress=progress,
    )
    if options.floor and connection.vendor == "postgresql":
        progress(f"[{options.target}] the floor: PostgreSQL alone loads the same rows again")
        prepared["floor"] = floor.measure(Case.objects.count())
    prepared["vacuum_s"] = vacuum()
    prepared["generated"] = {
        "cases": summary.cases,
        "events": summary.events,
        "clocks": summary.deadlines,
        "orders": summary.orders,
        "seconds": round(summary.seconds, 1),
        "cases_per_s": round(summary.rate),
        "phases_s": {name: round(seconds, 1) for name, seconds in summary.phases.items()},
        "cpu_s": {name: round(seconds, 1) for name, seconds in summary.cpu.items()},
    }
    return prepared


VACUUMED = ("cases_case", "cases_caseevent", "cases_deadline", "supervision_supervisionorder",
            "supervision_duesoonnotice", "accounts_user", "businesses_business",
            "departments_department")  # fmt: skip


def vacuum() -> float | None:
    """VACUUM (ANALYZE) what was just loaded, as autovacuum keeps a live database: visibility
    map and hint bits set (index-only scans, no first-read writes), fresh statistics."""
    if connection.vendor != "postgresql":
        return None
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(VACUUMED)}")
    return round(time.monotonic() - started, 1)


def cpu_groups(server: Gunicorn | None) -> Groups:
    groups = Groups()
    if server is not None:
        groups.finders["web"] = lambda: descendants(server.pid)
    if connection.vendor == "postgresql":
        name = str(connection.settings_dict["NAME"])
        groups.finders["postgresql"] = lambda: postgres_pids(name)
    groups.finders["bench process"] = lambda: [os.getpid()]
    return groups


def measured(load: LoadResult, window: CpuWindow) -> dict[str, Any]:
    """A load result with its CPU: per request for the machine and for each process group."""
    result = load.as_dict()
    machine_ms = cpu_ms_per_request(window.machine_busy, load.ok)
    result["cpu"] = {
        "machine_ms_per_request": round(machine_ms, 2) if machine_ms is not None else None,
        "machine_cores_busy": round(cores_busy(window.machine_busy, window.wall), 2),
        "by_group_ms_per_request": {
            name: round(value * 1000 / load.ok, 2) if load.ok else None
            for name, value in window.by_group.items()
        },
    }
    return result


def _window(groups: Groups) -> CpuWindow:
    return CpuWindow(groups)


def run_intake(options: Options, server: Gunicorn, progress: Progress) -> dict[str, Any]:
    people = intake.complainants(CONSUMERS)
    items = intake.complaints(people, PAYLOADS, seed=options.seed)
    source = intake.request_source(items)
    groups = cpu_groups(server)
    host, port = "127.0.0.1", server.port
    progress(f"  intake: warm-up, then {options.seconds:.0f}s at {options.connections} connections")
    loadgen.closed_loop(host, port, source, connections=options.connections, seconds=2.0)
    window = _window(groups)
    api = loadgen.closed_loop(
        host,
        port,
        source,
        connections=options.connections,
        seconds=options.seconds,
        warmup=options.warmup,
        on_measure_start=window.start,
        on_measure_end=window.stop,
    )
    api_result = measured(api, window)
    progress(f"  raw {options.target} ceiling, same concurrency")
    window = _window(groups)
    raw = (intake.raw_postgresql if connection.vendor == "postgresql" else intake.raw_sqlite)(
        items,
        connections=options.connections,
        seconds=options.seconds,
        warmup=options.warmup,
        on_measure_start=window.start,
        on_measure_end=window.stop,
    )
    raw_result = measured(raw, window)
    progress(f"  intake at a fixed {options.fixed_rate:.0f} req/s")
    window = _window(groups)
    fixed = loadgen.fixed_rate(
        host,
        port,
        source,
        rate=options.fixed_rate,
        seconds=options.seconds,
        connections=options.connections,
        warmup=options.warmup,
        on_measure_start=window.start,
        on_measure_end=window.stop,
    )
    reads.profile("POST", "/api/v1/complaints", people[1].token, items[1].body())  # warm-up
    body = items[0].body()
    return {
        "api": api_result,
        "raw": raw_result,
        "throughput_ratio": _rounded(ratio(api.throughput, raw.throughput)),
        "cpu_ratio": _rounded(
            ratio(
                api_result["cpu"]["machine_ms_per_request"] or 0,
                raw_result["cpu"]["machine_ms_per_request"] or 0,
            )
        ),
        "fixed_rate": {"rate": options.fixed_rate, **measured(fixed, window)},
        "profile": reads.profile("POST", "/api/v1/complaints", people[0].token, body),
    }


def _rounded(value: float | None, places: int = 3) -> float | None:
    return round(value, places) if value is not None else None


def run_reads(options: Options, server: Gunicorn, progress: Progress) -> dict[str, Any]:
    from workbench.pages import page_rows
    from workbench.selectors import PAGE_SIZE, Queue, queue_cases, queue_counts

    county = reads.busiest_county()
    codes = reads.levels(county)
    staff = {level: reads.staff_token(code) for level, code in codes.items()}
    people = intake.complainants(CONSUMERS)
    pairs = reads.case_pages(
        {p.user_id: p.token for p in people}, count=CASE_PAGES, seed=options.seed
    )
    groups = cpu_groups(server)
    host, port = "127.0.0.1", server.port
    out: dict[str, Any] = {"levels": codes}

    def page(name: str, source: loadgen.RequestSource, path: str, token: str) -> None:
        """Service latency first (one request at a time), then, when the page is fast enough
        for the server to keep up, the same page at a fixed rate with its CPU per request."""
        progress(f"  {name}: one at a time, then {options.read_rate:.0f} req/s")
        alone = loadgen.sequential(host, port, source, count=READS, max_seconds=options.seconds)
        out[name] = {"sequential": alone.as_dict(), "profile": reads.profile("GET", path, token)}
        p50 = (Latency.of(alone.latencies) or Latency(0, 0, 0, 0, 0, 0)).p50 / 1000
        if not alone.ok or p50 * options.read_rate > KEEP_UP * options.web_workers:
            out[name]["at_rate"] = {
                "rate": options.read_rate,
                "skipped": f"{p50 * 1000:.0f} ms a page: {options.web_workers} workers cannot "
                f"serve {options.read_rate:.0f}/s, a fixed-rate run would only time the queue",
            }
            return
        window = _window(groups)
        load = loadgen.fixed_rate(
            host,
            port,
            source,
            rate=options.read_rate,
            seconds=options.seconds,
            connections=options.connections,
            warmup=min(options.warmup, 2.0),
            on_measure_start=window.start,
            on_measure_end=window.stop,
        )
        out[name]["at_rate"] = {"rate": options.read_rate, **measured(load, window)}

    first_token, first_number = pairs[0]
    page("case_page", reads.case_page_source(pairs), f"/api/v1/cases/{first_number}", first_token)
    for level in ("county", "city"):
        path = "/api/v1/cases?page_size=50"
        page(f"queue_page_{level}", reads.get(path, staff[level].token), path, staff[level].token)

    def queue_page(officer: reads.Staff, queue: Queue) -> Callable[[], object]:
        """What the workbench reads for one queue page: the counts of every queue, 50 rows."""
        return lambda: (
            queue_counts(officer.user, officer.department),
            page_rows(queue_cases(officer.user, officer.department, queue), 0, PAGE_SIZE),
        )

    for level in WORKBENCH_LEVELS:
        out[f"workbench_queue_{level}"] = {
            queue.value: reads.timed_calls(queue_page(staff[level], queue), count=WORKBENCH_CALLS)
            for queue in (Queue.TO_ACCEPT, Queue.IN_HAND, Queue.DUE_SOON, Queue.OVERDUE)
        }
    for level in ("national", "province", "county"):
        path = f"/api/v1/stats/overview?department={codes[level]}"
        progress(f"  overview at {level} level ({codes[level]})")
        load = loadgen.sequential(
            host, port, reads.get(path, staff[level].token), count=10, max_seconds=options.seconds
        )
        profile = reads.profile("GET", path, staff[level].token)
        out[f"overview_{level}"] = {**load.as_dict(), "profile": profile}
    return out


def sweep_day() -> dt.date:
    """The next daily sweep after the generated state (the last day's sweep already ran): the
    first working day after yesterday, so that clocks do fall due on it."""
    yesterday = local_date(timezone.now()) - dt.timedelta(days=1)
    return add_working_days(yesterday, 1)


def run_sweep(progress: Progress) -> dict[str, Any]:
    """The next daily sweep, then again until a run finds nothing left (steps 2-5 handle at
    most BATCH rows a run), then once more: the idle run a beat schedule repeats all day."""
    from supervision.sweeps import SweepResult, sweep_deadlines

    day = sweep_day()
    runs = []
    for n in range(1, MAX_SWEEPS + 1):
        progress(f"  sweep_deadlines as of {day}: run {n}")
        started = time.perf_counter()
        result = sweep_deadlines(today=day)
        seconds = time.perf_counter() - started
        runs.append({"run": n, "seconds": round(seconds, 2), **dataclasses.asdict(result)})
        if result == SweepResult() and n > 1:
            break
    return {
        "today": day.isoformat(),
        "open_clocks": Deadline.objects.filter(met_at__isnull=True, cancelled=False).count(),
        "runs": runs,
        "idle": runs[-1]["seconds"] if runs[-1]["run"] > 1 and _idle(runs[-1]) else None,
    }


def _idle(run: dict[str, Any]) -> bool:
    return not any(v for k, v in run.items() if k not in ("run", "seconds"))


def web_env(options: Options) -> dict[str, str]:
    env = {"DATABASE_URL": options.web_database_url, "DEBUG": "false"}
    if options.redis_url:
        env["REDIS_URL"] = options.redis_url
    return env


def purge_broker() -> None:
    """Drop the delivery tasks the run queued on the bench's own broker (no worker reads it)."""
    from open12315.celery import app

    try:
        app.control.purge()
    except Exception:  # noqa: BLE001 - an in-memory broker has nothing to purge
        return


def run(options: Options, progress: Progress) -> dict[str, Any]:
    result: dict[str, Any] = {"target": options.target, "options": dataclasses.asdict(options)}
    result["machine_before"] = machine()
    progress(f"[{options.target}] preparing {options.cases:,} cases")
    result["prepare"] = prepare(options, progress)
    result["database"] = database_info()
    server = Gunicorn(env=web_env(options), workers=options.web_workers)
    progress(f"[{options.target}] gunicorn ({options.web_workers} sync workers) on :{server.port}")
    with server:
        result["intake"] = run_intake(options, server, progress)
        if options.reads:
            result["reads"] = run_reads(options, server, progress)
    if options.reads:
        result["sweep"] = run_sweep(progress)
    purge_broker()
    result["machine_after"] = machine()
    result["settings"] = {"DEBUG": settings.DEBUG}
    return result
