"""Departments by code for intake: their rows kept per process, confirmed against the table.

Every submission names its department by code, and intake needs the row (is it active, does it
receive this kind of case, its path for the rollups, its name for the reply) before it files.
The rows kept here save that read; they are never trusted alone:
- a kept row that would refuse the submission is read again first (`department(fresh=True)`),
  so a refusal is always decided on the row as it is now;
- a kept row that accepts it is compared with the row read in the round trip that files the
  case (`confirm`, every column): a department renamed, moved, deactivated or deleted since
  (`update`, `bulk_update` and `load_divisions` send no signal) replaces the kept row, and
  intake checks the submission again.
Each call hands out a new `Department` made from the row, so nothing cached on one (a loaded
parent, say) outlives the request that loaded it.
"""

from __future__ import annotations

from typing import Any

from django.db import router

from departments.models import Department, Level

FIELDS: tuple[str, ...] = tuple(field.attname for field in Department._meta.concrete_fields)
COLUMNS: tuple[str, ...] = tuple(field.column for field in Department._meta.concrete_fields)

Row = tuple[Any, ...]  # a department's FIELDS, in order
_CODE = FIELDS.index("code")

_rows: dict[str, Row] = {}


def department(code: str, *, fresh: bool = False) -> Department | None:
    """The department with this code, active or not, from the kept row, or (none kept, or
    `fresh`) from the row as read now, which is then kept. None when there is none."""
    if not _rows and not fresh:
        _load()
    row = None if fresh else _rows.get(code)
    if row is None:
        row = row_of(code)
        keep(code, row)
    return None if row is None else _made(row)


def _load() -> None:
    """Keep every department that may receive a case (all but the stations) in one query: a
    process would otherwise read most of the ~3,400 one by one as submissions name them."""
    found = Department.objects.exclude(level=Level.STATION).order_by().values_list(*FIELDS)
    for row in found:
        _rows[row[_CODE]] = tuple(row)


def _made(row: Row) -> Department:
    return Department.from_db(router.db_for_read(Department), list(FIELDS), list(row))


def keep(code: str, row: Row | None) -> None:
    if row is None:
        _rows.pop(code, None)
    else:
        _rows[code] = tuple(row)


def values_of(department: Department) -> Row:
    return tuple(getattr(department, name) for name in FIELDS)


def confirm(department: Department, row: Row | None) -> bool:
    """Whether `department` is the row as just read (`FIELDS` in order; None: the row is gone).
    When it is not, the row is kept instead (or the code forgotten) and False returned: the
    caller checks again."""
    if row is not None and tuple(row) == values_of(department):
        return True
    keep(department.code, row)
    return False


def row_of(code: str) -> Row | None:
    """The row of `code` as it is now (`FIELDS` in order), through the ORM (its converters)."""
    return Department.objects.filter(code=code).values_list(*FIELDS).first()
