"""How a department is named to the public: "杭州市西湖区市场监督管理局", not the division "西湖区".

Divisions are loaded by their administrative names; the bureau is what consumers deal with. The
names of ancestors come from a small per-process cache (cleared on any department save or delete),
so naming a page of cases costs no query per row.
"""

from __future__ import annotations

from functools import lru_cache

from departments.models import Department, Level

BUREAU_SUFFIX = "市场监督管理局"


@lru_cache(maxsize=8192)
def _name_and_level(code: str) -> tuple[str, str] | None:
    row = Department.objects.filter(code=code).values_list("name", "level").first()
    return (row[0], row[1]) if row else None


def clear_names(**_signal_kwargs: object) -> None:
    _name_and_level.cache_clear()


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
