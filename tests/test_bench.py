"""The bench's pieces: its arithmetic, the /proc readers, the COPY writer's text, the load
generator against a tiny local server, the report. (`manage.py bench` itself is too slow for
the suite: `make bench`.)"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management.base import CommandError

from cases.models import CaseEvent
from ops.bench import cpu, figures, loadgen, report
from ops.bench.loading import Table, copy_value
from ops.management.commands import bench as bench_command

# --- figures -------------------------------------------------------------------------------------


def test_percentile_interpolates_between_ranks():
    assert figures.percentile([1, 2, 3, 4], 50) == 2.5
    assert figures.percentile([4, 1, 3, 2], 0) == 1
    assert figures.percentile([4, 1, 3, 2], 100) == 4
    assert figures.percentile(list(range(1, 101)), 99) == pytest.approx(99.01)
    assert figures.percentile([7], 99) == 7


@pytest.mark.parametrize("q", [-1, 101])
def test_percentile_outside_0_100_is_refused(q):
    with pytest.raises(ValueError):
        figures.percentile([1, 2], q)


def test_percentile_of_nothing_is_refused():
    with pytest.raises(ValueError):
        figures.percentile([], 50)


def test_latency_is_summarised_in_milliseconds():
    latency = figures.Latency.of([0.010, 0.020, 0.030, 0.040, 1.0])

    assert latency is not None
    assert latency.count == 5
    assert latency.p50 == pytest.approx(30)
    assert latency.max == pytest.approx(1000)
    assert latency.mean == pytest.approx(220)
    assert latency.as_dict()["p99_ms"] == pytest.approx(961.6)
    assert figures.Latency.of([]) is None


def test_ratio_and_rates():
    assert figures.ratio(300, 1200) == 0.25
    assert figures.ratio(5, 0) is None
    assert figures.per_second(600, 20) == 30
    assert figures.cpu_ms_per_request(1.5, 300) == 5.0
    assert figures.cpu_ms_per_request(1.5, 0) is None
    assert figures.cores_busy(30, 20) == 1.5
    with pytest.raises(ValueError):
        figures.per_second(1, 0)


def test_verdicts_know_which_way_is_better():
    assert figures.verdict(310, 300, higher_is_better=True) == "met"
    assert figures.verdict(290, 300, higher_is_better=True) == "missed"
    assert figures.verdict(6.0, 6.0, higher_is_better=False) == "met"
    assert figures.verdict(6.1, 6.0, higher_is_better=False) == "missed"
    assert figures.verdict(None, 6.0, higher_is_better=False) == "n/a"


# --- /proc ---------------------------------------------------------------------------------------


def test_machine_cpu_counts_iowait_as_idle():
    busy, total = cpu.parse_stat_line("cpu  100 10 50 800 40 5 5 0 0 0")

    assert total == pytest.approx(1010 / cpu.TICKS)
    assert busy == pytest.approx(170 / cpu.TICKS)


def test_process_stat_is_parsed_past_a_command_with_spaces():
    text = "4242 (gunicorn: worker [x]) S 4200 4242 4242 0 -1 4194560 1 0 0 0 250 50 0 0 20 0 1"

    command, parent, seconds = cpu.parse_process_stat(text)

    assert command == "gunicorn: worker [x]"
    assert parent == 4200
    assert seconds == pytest.approx(300 / cpu.TICKS)


@pytest.mark.parametrize(
    ("cmdline", "expected"),
    [
        ("postgres: 15/main: postgres bench_open12315 127.0.0.1(5555) idle", True),
        ("postgres: postgres bench_open12315 [local] COMMIT", True),
        ("postgres: 15/main: postgres test_other 127.0.0.1(5555) idle", False),
        ("postgres: 15/main: walwriter", True),
        ("postgres: 15/main: checkpointer", True),
        ("postgres: 15/main: autovacuum launcher", False),
        ("/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main", False),
        ("python manage.py bench_open12315", False),
    ],
)
def test_postgres_processes_of_the_bench_database(cmdline, expected):
    assert cpu.is_postgres_of(cmdline, "bench_open12315") is expected


def test_group_cpu_is_counted_per_process():
    before = {1: 2.0, 2: 5.0, 3: 1.0}  # 3 ends inside the window
    after = {1: 2.5, 2: 6.0, 4: 0.25}  # 4 starts inside it

    assert cpu.group_delta(before, after) == pytest.approx(1.75)


def test_this_process_is_found_and_timed():
    import os

    assert os.getpid() in cpu.descendants(os.getpid())
    assert cpu.process_cpu(os.getpid()) > 0
    busy, total = cpu.machine_cpu()
    assert 0 < busy <= total


# --- COPY text -----------------------------------------------------------------------------------


def test_copy_values_follow_postgresql_text_format():
    assert copy_value(None) == "\\N"
    assert copy_value(True) == "t"
    assert copy_value("a\tb\\c\nd") == "a\\tb\\\\c\\nd"
    assert copy_value(Decimal("1.50")) == "1.50"
    assert copy_value(dt.date(2026, 3, 15)) == "2026-03-15"
    assert copy_value({"a": "中"}) == '{"a": "中"}'


def test_copy_text_appends_the_defaults_and_escapes_what_needs_it(db):
    table = Table(
        CaseEvent,
        [
            "id",
            "case_id",
            "seq",
            "at",
            "action",
            "actor_id",
            "department_id",
            "visibility",
            "note",
            "data",
            "prev_hash",
            "hash",
        ],
    )
    at = dt.datetime(2026, 3, 15, 10, tzinfo=dt.UTC)
    plain = (1, 2, 1, at, "submit", None, "330106", "public", "经网站提交", {"x": 1}, "0", "h")
    tricky = (2, 2, 2, at, "accept", 5, "330106", "public", "line\nbreak\t", {}, "h", "i")

    text = table.copy_text([plain, tricky])

    lines = text.split("\n")
    assert len(lines) == 3 and lines[2] == ""
    fields = lines[0].split("\t")
    assert fields[:3] + fields[4:] == [
        "1",
        "2",
        "1",
        "submit",
        "\\N",
        "330106",
        "public",
        "经网站提交",
        '{"x": 1}',
        "0",
        "h",
    ]
    assert dt.datetime.fromisoformat(fields[3]) == at
    assert "line\\nbreak\\t" in lines[1]


def test_copy_text_takes_the_fast_path_when_nothing_needs_escaping(db):
    table = Table(
        CaseEvent,
        [
            "id",
            "case_id",
            "seq",
            "at",
            "action",
            "actor_id",
            "department_id",
            "visibility",
            "note",
            "data",
            "prev_hash",
            "hash",
        ],
    )
    at = dt.datetime(2026, 3, 15, 10, tzinfo=dt.UTC)
    row = (1, 2, 1, at, "submit", None, "330106", "public", "", {"x": [1, "中"]}, "0", "h")

    fields = table.copy_text([row]).rstrip("\n").split("\t")

    assert fields[3] == str(at)
    assert fields[9] == '{"x": [1, "中"]}'
    assert fields[8] == ""


def test_a_model_field_the_generator_does_not_know_must_have_a_default(db):
    from ops.bench.loading import SchemaMismatch

    with pytest.raises(SchemaMismatch):
        Table(CaseEvent, ["id", "case_id"])
    with pytest.raises(SchemaMismatch):
        Table(CaseEvent, ["id", "no_such_column"])


# --- the load generator --------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path == "/slow":
            time.sleep(0.05)
        status = 404 if self.path == "/missing" else 200
        body = b'{"ok": true}'
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield int(httpd.server_address[1])
    httpd.shutdown()
    httpd.server_close()


def test_closed_loop_measures_only_inside_its_window(server):
    marks: list[str] = []

    result = loadgen.closed_loop(
        "127.0.0.1",
        server,
        lambda i: loadgen.Request("GET", "/"),
        connections=4,
        seconds=0.5,
        warmup=0.2,
        on_measure_start=lambda: marks.append("start"),
        on_measure_end=lambda: marks.append("end"),
    )

    assert marks == ["start", "end"]
    assert result.ok > 10 and result.errors == 0
    assert result.throughput == pytest.approx(result.ok / 0.5)
    assert result.as_dict()["statuses"] == {"200": result.ok}


def test_errors_are_counted_apart_from_latencies(server):
    paths = ["/", "/missing"]

    result = loadgen.sequential(
        "127.0.0.1", server, lambda i: loadgen.Request("GET", paths[i % 2]), count=10
    )

    assert result.ok == 5
    assert result.errors == 5
    assert result.statuses == {"200": 5, "404": 5}


def test_fixed_rate_keeps_the_schedule_and_counts_from_the_due_time(server):
    result = loadgen.fixed_rate(
        "127.0.0.1",
        server,
        lambda i: loadgen.Request("GET", "/slow"),
        rate=40,
        seconds=0.5,
        connections=1,
    )

    assert result.ok == 20
    # One connection and 50 ms per answer cannot keep 40/s: later requests start late, and the
    # wait shows in their latency (no coordinated omission).
    latencies = sorted(result.latencies)
    assert latencies[0] >= 0.05
    assert latencies[-1] > 0.2


def test_a_refused_connection_is_an_error_not_a_crash():
    result = loadgen.sequential(
        "127.0.0.1", 1, lambda i: loadgen.Request("GET", "/"), count=2, timeout=1
    )

    assert result.ok == 0
    assert result.errors == 2


# --- the report and the command ------------------------------------------------------------------


def _load(throughput: float, p99: float) -> dict[str, object]:
    return {
        "throughput_per_s": throughput,
        "requests_ok": 100,
        "latency": {"p50_ms": 10.0, "p99_ms": p99, "max_ms": p99},
        "cpu": {
            "machine_ms_per_request": 5.0,
            "by_group_ms_per_request": {"web": 3.0, "postgresql": 1.0, "bench process": 1.0},
        },
    }


def test_the_report_puts_each_figure_beside_its_baseline_and_target(tmp_path):
    result = {
        "target": "postgresql",
        "database": {"vendor": "postgresql", "cases": 1000, "open_clocks": 10},
        "prepare": {
            "generated": {
                "cases": 1000,
                "seconds": 0.1,
                "cases_per_s": 12000,
                "phases_s": {"chunks": 0.06, "indexes": 0.02, "rollups": 0.02},
                "cpu_s": {"python": 0.1, "machine": 0.2},
            },
            "floor": {
                "cases_per_s": 16000,
                "copy_mb": 2,
                "phases_s": {"copy": 0.04, "indexes": 0.01, "rollups": 0.01, "analyze": 0.0},
                "machine_cpu_s": 0.1,
            },
        },
        "intake": {
            "api": _load(320, 80),
            "raw": _load(1600, 20),
            "throughput_ratio": 0.2,
            "cpu_ratio": 4.0,
            "fixed_rate": {"rate": 100, **_load(100, 60)},
            "profile": {
                "queries": 19,
                "sql_ms": 5.0,
                "seconds": 0.02,
                "slowest": [{"ms": 1.0, "sql": "SELECT 1"}],
            },
        },
        "sweep": {
            "today": "2026-11-30",
            "runs": [{"run": 1, "seconds": 12.0, "due_soon": 5}, {"run": 2, "seconds": 0.4}],
            "idle": 0.4,
        },
        "reads": {
            "levels": {"national": "100000", "province": "330000", "county": "330106"},
            "case_page": {"sequential": _load(50, 30), "at_rate": {"rate": 20, **_load(20, 40)}},
            "queue_page_county": {
                "sequential": _load(5, 900),
                "at_rate": {"rate": 20, "skipped": "900 ms a page"},
            },
            "overview_national": {"latency": {"p50_ms": 120.0, "max_ms": 130.0}},
            "workbench_queue_city": {
                "overdue": {
                    "latency": {"p50_ms": 20.0, "p99_ms": 70.0},
                    "queries": 4,
                    "sql_ms": 60.0,
                    "slowest": [],
                }
            },
        },
    }

    text = report.render([result])
    json_path, text_path = report.write([result], tmp_path, started="now")

    assert "postgresql intake throughput" in text and "1,600.0/s" in text
    assert "web+db CPU/case     4.00 ms" in text.replace("  ", " ") or "4.00 ms" in text
    assert "POST /api/v1/complaints: 19 queries" in text
    assert "skipped (too slow)" in text
    assert "due_soon=5" in text
    generator = next(line for line in text.splitlines() if "postgresql generator" in line)
    assert "chunks 0.1 s" in generator and "12,000/s" in generator and "missed" in generator
    assert "16,000/s" in generator and "0.750" in generator  # beside its floor, and the ratio
    assert "python 0.1 s, machine 0.2 s" in text
    assert "PostgreSQL alone loads the same rows from files (2 MB; copy 0.0 s" in text
    city = next(line for line in text.splitlines() if "workbench overdue, city" in line)
    assert "missed" in city
    assert text.count("met") >= 4
    assert json.loads(json_path.read_text())["results"][0]["target"] == "postgresql"
    assert text_path.read_text() == text


def test_bench_database_urls():
    url = "postgres://postgres@127.0.0.1:5432/bench_open12315"

    assert bench_command.database_name(url) == "bench_open12315"
    assert bench_command.with_query(url, "conn_max_age=600").endswith("?conn_max_age=600")
    assert bench_command.with_query(url + "?a=1", "b=2").endswith("?a=1&b=2")


def test_the_bench_never_drops_a_database_not_named_bench():
    with pytest.raises(CommandError, match="bench"):
        bench_command.recreate_postgresql("postgres://postgres@127.0.0.1/open12315", reuse=False)


def test_fixed_rate_drops_what_a_stalled_server_leaves_unsent(server):
    result = loadgen.fixed_rate(
        "127.0.0.1", server, lambda i: loadgen.Request("GET", "/slow"), rate=100, seconds=0.3,
        connections=1, grace=0.1,
    )  # fmt: skip

    assert result.statuses["dropped"] > 0
    assert result.ok + result.statuses["dropped"] == 30
    assert result.errors == result.statuses["dropped"]


def test_the_targets_are_judged_on_postgresql_only():
    """The issue sets the targets for the PostgreSQL deployment; SQLite is shown beside them."""
    intake = {
        "api": _load(120, 80),
        "raw": _load(1600, 20),
        "throughput_ratio": 0.1,
        "cpu_ratio": 9.0,
        "fixed_rate": {"rate": 100, **_load(100, 60)},
    }
    sqlite = report.intake_lines("sqlite", intake)
    postgresql = report.intake_lines("postgresql", intake)
    assert all(line[4] == "" and line[5] == "" for line in sqlite)
    assert postgresql[0][5] == "missed" and [line[1:4] for line in postgresql] == [
        line[1:4] for line in sqlite
    ]
