"""How a department is named to the public: "杭州市西湖区市场监督管理局", not the division "西湖区".

Divisions are loaded by their administrative names; the bureau is what consumers deal with. The
names of ancestors come from a small per-process cache, so naming a page of cases costs no query
per row. A save or delete clears it in the process that made it; other processes (the other web
workers) read a name again once it is NAME_TTL seconds old, so a renamed city shows everywhere
within that time.
"""

from __future__ import annotations

import time

from departments.models import Department, Level

BUREAU_SUFFIX = "市场监督管理局"
NAME_TTL = 60.0  # seconds a name read by this process is used before it is read again
NAMES_KEPT = 8192

_names: dict[str, tuple[float, tuple[str, str] | None]] = {}


def _name_and_level(code: str) -> tuple[str, str] | None:
    now = time.monotonic()
    kept = _names.get(code)
    if kept is not None and now - kept[0] < NAME_TTL:
        return kept[1]
    row = Department.objects.filter(code=code).values_list("name", "level").first()
    value = (row[0], row[1]) if row else None
    if len(_names) >= NAMES_KEPT:
        _names.clear()
    _names[code] = (now, value)
    return value


def clear_names(**_signal_kwargs: object) -> None:
    _names.clear()


def bureau_name(department: Department) -> str:
    if department.level in (Level.NATIONAL, Level.STATION):
        return department.name
    if department.name.endswith(BUREAU_SUFFIX):
        return department.name
    prefix = ""
    if department.level == Level.COUNTY and department.parent_id:
        parent = _name_and_level(department.parent_id)
        if parent and parent[1] == Level.CITY and not department.name.startswith(parent[0]):
            prefix = parent[0]
    return f"{prefix}{department.name}{BUREAU_SUFFIX}"
