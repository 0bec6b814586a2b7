"""Exact counts of the staff case lists, read from counters instead of counted case by case.

Staff see the cases held in their subtrees (`department_id` in the subtree's units) and the few
handled there while held elsewhere (`cases.access.visible_parts`). The held cases of any subtree,
by kind and status, are kept in the rollup table (`supervision.rollups.HELD`: for every unit on
a case's department path, in the transaction of every change), so their count is a sum of a few
rows whatever the subtree's size; the other parts (handled elsewhere, the staff member's own
cases, their business's) stay small and are counted directly from their indexes. A filter the
counters do not hold (words, overdue clocks, dates) falls back to counting the cases.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from django.db.models import Q, QuerySet, Sum

from accounts.models import User
from cases.access import HANDLER_IS_HOLDER, count_parts, staff_paths, visible_parts
from cases.models import Case, Kind, Status
from departments.models import Department
from supervision import rollups
from supervision.models import Rollup

# The list filters the counters hold; any other filter set means counting the cases.
COUNTED_FILTERS = frozenset({"kind", "status", "department"})


def code_of(path: str) -> str:
    """The unit code a materialised path ends with."""
    return path.rstrip("/").rsplit("/", 1)[-1]


def outermost(paths: Iterable[str]) -> list[str]:
    """The paths that lie under no other of them: their subtrees are disjoint and cover all."""
    unique = set(paths)
    return sorted(p for p in unique if not any(p != q and p.startswith(q) for q in unique))


def held_count(
    paths: Iterable[str],
    *,
    kinds: Collection[str] | None = None,
    statuses: Collection[str] | None = None,
    at_unit: bool = False,
) -> int:
    """How many cases are held (by department) in the subtrees of `paths`, of these kinds and
    statuses (None: any), from the HELD counters. `at_unit`: held by the units themselves only
    (child ""), not by the units below them."""
    codes = [code_of(path) for path in outermost(paths)]
    if not codes:
        return 0
    rows = Rollup.objects.filter(unit_id__in=codes, metric=rollups.HELD, day=rollups.NOW)
    if kinds is not None or statuses is not None:
        keys = [
            rollups.held_key(kind, status)
            for kind in (Kind.values if kinds is None else kinds)
            for status in (Status.values if statuses is None else statuses)
        ]
        rows = rows.filter(key__in=keys)
    if at_unit:
        rows = rows.filter(child="")
    total = rows.aggregate(n=Sum("n"))["n"]
    return int(total or 0)


def held_in_unit(department: Department) -> dict[tuple[str, str, bool], int]:
    """The HELD counters of one department's subtree: cases per (kind, status, held by the
    department itself rather than a unit below it), in one read of its few rows."""
    rows = Rollup.objects.filter(unit=department, metric=rollups.HELD, day=rollups.NOW)
    counts: dict[tuple[str, str, bool], int] = {}
    for key, child, n in rows.values_list("key", "child", "n"):
        kind, status = key.split("/")
        cell = (kind, status, child == "")
        counts[cell] = counts.get(cell, 0) + n
    return counts


def _held_paths(paths: list[str], department: Department | None) -> list[str]:
    """The subtrees (as paths) that together hold exactly the cases held in one of `paths` and,
    when given, in the department's subtree."""
    if department is None:
        return paths
    inside = [path for path in paths if path.startswith(department.path)]
    above = [path for path in paths if department.path.startswith(path)]
    return inside + ([department.path] if above else [])


def count_visible(user: User, matching: QuerySet[Case], filters: Mapping[str, str | None]) -> int:
    """How many of the cases in `matching` (the list with `filters` applied) `user` may see:
    exactly `count_parts` over `visible_parts`, read from the counters for staff when only the
    kind, status and department filters are set.

    With a department filter, a case held in the user's subtrees but outside the department's
    is listed only when it is handled in the department's subtree, hence handled elsewhere
    than it is held: that part is counted directly from the small `case_handled_elsewhere`."""
    parts = visible_parts(user)
    paths = staff_paths(user) if user.is_authenticated else []
    others = {name for name, value in filters.items() if value and name not in COUNTED_FILTERS}
    if not paths or others:
        return count_parts([matching.filter(part) for part in parts])
    department = None
    if filters.get("department"):
        department = Department.objects.get(code=filters["department"])
    # `visible_parts` starts with the cases held in the user's subtrees (national: every case).
    held, rest = parts[0], [matching.filter(part) for part in parts[1:]]
    if department is not None:
        outside = ~Q(department__path__startswith=department.path)
        rest.insert(0, matching.filter(held & ~Q(HANDLER_IS_HOLDER) & outside))
    kind, status = filters.get("kind"), filters.get("status")
    counted = held_count(
        _held_paths(paths, department),
        kinds=[kind] if kind else None,
        statuses=[status] if status else None,
    )
    return counted + count_parts(rest)
