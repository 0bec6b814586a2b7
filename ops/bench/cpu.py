"""CPU time from /proc: the whole machine (/proc/stat) and groups of processes (/proc/PID/stat).

The machine figure is what the target is about, but it also counts whatever else runs on the
machine; the per-group figures (web workers, this database's PostgreSQL backends and the shared
WAL writer / checkpointer / background writer, the load generator) say where the time went.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
POSTGRES_SHARED = ("walwriter", "checkpointer", "background writer", "wal writer")


def parse_stat_line(line: str) -> tuple[float, float]:
    """(busy, total) seconds from the aggregate `cpu` line of /proc/stat; iowait counts idle."""
    fields = [int(value) for value in line.split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    total = sum(fields[:8])  # guest time is already inside user/nice
    return (total - idle) / TICKS, total / TICKS


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the machine since boot, summed over cores."""
    with (PROC / "stat").open() as handle:
        return parse_stat_line(handle.readline())


def parse_process_stat(text: str) -> tuple[str, int, float]:
    """(command, parent pid, user+system seconds) from the text of /proc/PID/stat."""
    close = text.rindex(")")
    command = text[text.index("(") + 1 : close]
    rest = text[close + 2 :].split()
    # rest[0] is field 3 (state); utime and stime are fields 14 and 15.
    return command, int(rest[1]), (int(rest[11]) + int(rest[12])) / TICKS


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:  # the process ended meanwhile
        return None


def process_cpu(pid: int) -> float:
    text = _read(PROC / str(pid) / "stat")
    return parse_process_stat(text)[2] if text else 0.0


def _cmdline(pid: int) -> str:
    raw = _read(PROC / str(pid) / "cmdline")
    return raw.replace("\0", " ").strip() if raw else ""


def _pids() -> Iterable[int]:
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            yield int(entry.name)


def descendants(root: int) -> list[int]:
    """`root` and every process below it."""
    children: dict[int, list[int]] = {}
    for pid in _pids():
        text = _read(PROC / str(pid) / "stat")
        if text:
            children.setdefault(parse_process_stat(text)[1], []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def is_postgres_of(cmdline: str, database: str) -> bool:
    """A backend serving `database` ("postgres: [CLUSTER: ]USER DB HOST(PORT) STATE") or one of
    the shared writer processes ("postgres: [CLUSTER: ]walwriter")."""
    if not cmdline.startswith("postgres: "):
        return False
    title = cmdline.removeprefix("postgres: ").rsplit(": ", 1)[-1] if ": " in cmdline else ""
    if any(title.startswith(name) for name in POSTGRES_SHARED):
        return True
    words = cmdline.split()
    return database in words[1:] and words.index(database) >= 2


def postgres_pids(database: str) -> list[int]:
    return [pid for pid in _pids() if is_postgres_of(_cmdline(pid), database)]


@dataclass
class Groups:
    """Named groups of processes, re-listed at every sample (backends come and go)."""

    finders: dict[str, Callable[[], list[int]]] = field(default_factory=dict)

    def sample(self) -> dict[str, dict[int, float]]:
        """CPU seconds of every process of every group, by pid."""
        return {
            name: {pid: process_cpu(pid) for pid in find()} for name, find in self.finders.items()
        }


def group_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU a group used between two samples, per process, so that one ending or starting in
    between does not distort the others (one that started counts from zero)."""
    return sum(max(value - before.get(pid, 0.0), 0.0) for pid, value in after.items())


@dataclass
class CpuWindow:
    """CPU used between `start()` and `stop()`: the machine's and each group's."""

    groups: Groups
    machine_busy: float = 0.0
    machine_total: float = 0.0
    wall: float = 0.0
    by_group: dict[str, float] = field(default_factory=dict)
    _start: tuple[float, float, float, dict[str, dict[int, float]]] | None = None

    def start(self) -> None:
        busy, total = machine_cpu()
        self._start = (time.monotonic(), busy, total, self.groups.sample())

    def stop(self) -> None:
        assert self._start is not None, "stop() before start()"
        wall0, busy0, total0, groups0 = self._start
        busy, total = machine_cpu()
        groups = self.groups.sample()
        self.wall = time.monotonic() - wall0
        self.machine_busy, self.machine_total = busy - busy0, total - total0
        self.by_group = {name: group_delta(groups0.get(name, {}), groups[name]) for name in groups}

    @property
    def cores(self) -> int:
        return os.cpu_count() or 1
