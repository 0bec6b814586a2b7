"""The bench's outputs: `var/bench/latest.json` (everything) and a readable table (the figures
against their targets and baselines, then the query profile of each page)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops.bench.figures import ratio, verdict


@dataclass(frozen=True)
class Target:
    value: float
    higher_is_better: bool
    text: str


TARGETED = "postgresql"  # the deployment the targets are set for (the issue: PostgreSQL, gunicorn)
TARGETS = {
    "intake_throughput": Target(300, True, ">= 300/s"),
    "intake_cpu": Target(6.0, False, "<= 6 ms"),
    "intake_fixed_p99": Target(100, False, "p99 < 100 ms"),
    "page_p99": Target(50, False, "p99 < 50 ms"),
    "overview_national": Target(150, False, "< 150 ms"),
    "sweep_first": Target(30, False, "< 30 s"),
    "sweep_idle": Target(2, False, "< 2 s"),
    "generator": Target(20_000, True, ">= 20,000 cases/s"),
}

Line = tuple[str, str, str, str, str, str]


def _get(data: dict[str, Any] | None, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _num(value: Any, unit: str = "", places: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{places}f}{unit}"


def _judge(value: Any, target: str) -> str:
    spec = TARGETS[target]
    return verdict(value, spec.value, higher_is_better=spec.higher_is_better)


def _judge_p99(result: dict[str, Any], target: str) -> str:
    """A p99 target is missed outright when more than 1% of the requests failed or were
    dropped: their latency is unbounded, so the p99 of the others would flatter the server."""
    errors, ok = result.get("errors") or 0, result.get("requests_ok") or 0
    if errors and errors > 0.01 * (errors + ok):
        return "missed"
    return _judge(_get(result, "latency", "p99_ms"), target)


def intake_lines(label: str, intake: dict[str, Any]) -> list[Line]:
    api, raw = intake["api"], intake["raw"]
    fixed = intake["fixed_rate"]
    api_cpu = _get(api, "cpu", "machine_ms_per_request")
    raw_cpu = _get(raw, "cpu", "machine_ms_per_request")
    server_cpu = sum(
        v or 0
        for k, v in _get(api, "cpu", "by_group_ms_per_request").items()
        if k != "bench process"
    )
    lines: list[Line] = [
        (
            f"{label} intake throughput",
            _num(api["throughput_per_s"], "/s"),
            _num(raw["throughput_per_s"], "/s"),
            _num(intake["throughput_ratio"], "", 3),
            TARGETS["intake_throughput"].text,
            _judge(api["throughput_per_s"], "intake_throughput"),
        ),
        (
            f"{label} intake machine CPU/case",
            _num(api_cpu, " ms", 2),
            _num(raw_cpu, " ms", 2),
            _num(intake["cpu_ratio"], "x", 1),
            TARGETS["intake_cpu"].text,
            _judge(api_cpu, "intake_cpu"),
        ),
        (f"{label} intake web+db CPU/case", _num(server_cpu, " ms", 2), "", "", "", ""),
        (f"{label} intake p50 / p99", _lat(api), _lat(raw), "", "", ""),
        (
            f"{label} intake p99 at {fixed['rate']:.0f}/s",
            _lat(fixed),
            "",
            "",
            TARGETS["intake_fixed_p99"].text,
            _judge_p99(fixed, "intake_fixed_p99"),
        ),
    ]
    if label == TARGETED:
        return lines
    # The targets are the PostgreSQL deployment's; other databases are shown for comparison.
    return [(name, measured, base, ratio, "", "") for name, measured, base, ratio, *_ in lines]


def _lat(result: dict[str, Any]) -> str:
    latency = result.get("latency") or {}
    failed = f" ({result['errors']} failed)" if result.get("errors") else ""
    if not latency:
        return "-" + failed
    return f"{latency['p50_ms']:.1f} / {latency['p99_ms']:.1f} ms{failed}"


def read_lines(data: dict[str, Any]) -> list[Line]:
    lines: list[Line] = []
    pages = (
        ("case_page", "case page (consumer)"),
        ("queue_page_county", "queue page, county staff"),
        ("queue_page_city", "queue page, city staff"),
    )
    for key, label in pages:
        result = data.get(key)
        if not result:
            continue
        alone = result["sequential"]
        lines.append((f"{label}, one at a time", _lat(alone), "", "", TARGETS["page_p99"].text,
                      _judge_p99(alone, "page_p99")))  # fmt: skip
        at_rate = result.get("at_rate") or {}
        if "skipped" in at_rate:
            lines.append((f"{label} @{at_rate['rate']:.0f}/s", "skipped (too slow)", "", "", "",
                          ""))  # fmt: skip
        elif at_rate:
            cpu = _get(at_rate, "cpu", "by_group_ms_per_request") or {}
            web_db = sum(v or 0 for k, v in cpu.items() if k != "bench process")
            lines.append((f"{label} @{at_rate['rate']:.0f}/s", _lat(at_rate),
                          f"web+db {web_db:.1f} ms CPU", "", TARGETS["page_p99"].text,
                          _judge_p99(at_rate, "page_p99")))  # fmt: skip
    for level in ("county", "city"):
        for queue, result in (data.get(f"workbench_queue_{level}") or {}).items():
            lines.append((f"workbench {queue}, {level} (in-process)", _lat(result), "", "",
                          TARGETS["page_p99"].text,
                          _judge(_get(result, "latency", "p99_ms"), "page_p99")))  # fmt: skip
    for level in ("national", "province", "county"):
        result = data.get(f"overview_{level}")
        if result:
            p50 = _get(result, "latency", "p50_ms")
            national = level == "national"
            lines.append((f"overview, {level} ({data['levels'][level]}) p50 / max",
                          f"{_num(p50, ' ms')} / {_num(_get(result, 'latency', 'max_ms'), ' ms')}",
                          "", "", TARGETS["overview_national"].text if national else "",
                          _judge(p50, "overview_national") if national else ""))  # fmt: skip
    return lines


def sweep_lines(sweep: dict[str, Any]) -> list[Line]:
    runs = sweep["runs"]
    first = runs[0]
    did = ", ".join(f"{k}={v}" for k, v in first.items() if k not in ("run", "seconds") and v)
    lines: list[Line] = [
        (f"sweep_deadlines {sweep['today']}, first run", _num(first["seconds"], " s", 2),
         did or "nothing to do", "", TARGETS["sweep_first"].text,
         _judge(first["seconds"], "sweep_first")),
    ]  # fmt: skip
    for run in runs[1:-1]:
        lines.append((f"  carry-over run {run['run']}", _num(run["seconds"], " s", 2), "", "", "",
                      ""))  # fmt: skip
    idle = sweep.get("idle")
    lines.append(("sweep_deadlines, idle re-run", _num(idle, " s", 2), "", "",
                  TARGETS["sweep_idle"].text, _judge(idle, "sweep_idle")))  # fmt: skip
    return lines


def table(lines: Iterable[Line]) -> str:
    header: Line = ("measurement", "measured", "raw baseline", "ratio", "target", "verdict")
    rows = [header, *lines]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    out = []
    for n, row in enumerate(rows):
        out.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def _profile_lines(name: str, profile: dict[str, Any] | None) -> list[str]:
    if not profile:
        return []
    lines = [
        f"{name}: {profile['queries']} queries, {profile['sql_ms']} ms in SQL "
        f"(request {profile['seconds'] * 1000:.0f} ms in-process)"
    ]
    lines += [f"    {q['ms']:>8.1f} ms  {q['sql'][:150]}" for q in profile["slowest"]]
    return lines


def profiles(result: dict[str, Any]) -> list[str]:
    lines = _profile_lines("POST /api/v1/complaints", _get(result, "intake", "profile"))
    data = result.get("reads") or {}
    for key, value in data.items():
        if isinstance(value, dict) and "profile" in value:
            lines += _profile_lines(key, value["profile"])
        if key.startswith("workbench_queue_"):
            for queue, measured in value.items():
                lines += _profile_lines(
                    f"workbench {queue}, {key.removeprefix('workbench_queue_')}",
                    {**measured, "seconds": measured["latency"]["p50_ms"] / 1000},
                )
    return lines


def generator_lines(
    label: str, generated: dict[str, Any], floor: dict[str, Any] | None = None
) -> list[Line]:
    """The generator's rate with the time of each phase (none when the data was reused), beside
    its baseline: PostgreSQL alone loading the same rows from files (`ops.bench.floor`)."""
    if "cases_per_s" not in generated:
        return []
    phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in
                       (generated.get("phases_s") or {}).items())  # fmt: skip
    target = TARGETS["generator"]
    rate = generated["cases_per_s"] if label == TARGETED else None
    base = floor.get("cases_per_s") if floor else None
    lines: list[Line] = [
        (f"{label} generator ({generated['seconds']:.1f} s: {phases})",
         _num(generated["cases_per_s"], "/s", 0), _num(base, "/s", 0),
         _num(ratio(generated["cases_per_s"], base) if base else None, "", 3),
         target.text if rate is not None else "",
         _judge(rate, "generator") if rate is not None else "")
    ]  # fmt: skip
    cpu = generated.get("cpu_s") or {}
    if cpu:
        lines.append((f"{label} generator CPU (python = the command and its workers)",
                      ", ".join(f"{name} {seconds:.1f} s" for name, seconds in cpu.items()),
                      "", "", "", ""))  # fmt: skip
    if floor:
        phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in
                           (floor.get("phases_s") or {}).items())  # fmt: skip
        lines.append((f"{label} floor: PostgreSQL alone loads the same rows from files "
                      f"({floor['copy_mb']:,} MB; {phases}; machine CPU "
                      f"{floor['machine_cpu_s']:.1f} s)",
                      "", _num(base, "/s", 0), "", "", ""))  # fmt: skip
    return lines


def render(results: list[dict[str, Any]]) -> str:
    parts = []
    for result in results:
        db = result.get("database", {})
        gen = _get(result, "prepare", "generated") or {}
        before = result.get("machine_before", {})
        parts.append(
            f"== {result['target']}: {db.get('version', db.get('vendor'))}, "
            f"{db.get('cases', 0):,} cases, {db.get('open_clocks', 0):,} open clocks; "
            f"generated {gen.get('cases', gen.get('reused', 0)):,} at "
            f"{gen.get('cases_per_s', '-')} cases/s; machine: {before.get('cpus')} CPUs, "
            f"load {before.get('load_average')}, probe {before.get('python_probe_ms')} ms"
        )
        lines = intake_lines(result["target"], result["intake"]) if "intake" in result else []
        lines += generator_lines(result["target"], gen, _get(result, "prepare", "floor"))
        if "reads" in result:
            lines += read_lines(result["reads"])
        if "sweep" in result:
            lines += sweep_lines(result["sweep"])
        parts.append(table(lines))
        profile = profiles(result)
        if profile:
            parts.append("Queries per request (in-process, CaptureQueriesContext):")
            parts.extend(profile)
        parts.append("")
    return "\n".join(parts)


def write(results: list[dict[str, Any]], directory: Path, *, started: str) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    data = {"started": started, "results": results}
    json_path = directory / "latest.json"
    json_path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    text_path = directory / "latest.txt"
    text_path.write_text(render(results))
    return json_path, text_path
