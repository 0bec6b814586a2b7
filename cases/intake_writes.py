"""Filing a case in two round trips on PostgreSQL: one reads and reserves, one writes.

`reserve` runs before the transaction: the next keys of the case, of its first event and of its
first clock (the number and the event's hash, which covers the number, are then known before
any INSERT), the department's row (to confirm intake's copy, `departments.cache`) and the
businesses the respondent may be. `insert` sends the rows' INSERTs and the rollup upsert in one
pipeline, with the transaction's BEGIN. The SQL texts are built once per process and do not vary,
so psycopg parses them once and PostgreSQL prepares them once per connection; the values are
prepared by the model fields, as `Model.save` prepares them.

SQLite has no sequences: `reserve` reads the same rows through the ORM and reserves no key, and
intake saves the rows one by one (`cases.intake`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

from businesses.models import Business
from businesses.services import matching_businesses
from cases.models import Case, CaseEvent, Deadline
from departments import cache as department_cache
from departments.models import Department

KEYED = (Case, CaseEvent, Deadline)  # the tables whose keys `reserve` takes


@dataclass(frozen=True)
class Respondent:
    """Whom the submission names: what `businesses.services.choose_business` decides on."""

    name: str
    uscc: str


@dataclass(frozen=True)
class Reserved:
    """What filing a case needs from the database, read before its transaction."""

    department: tuple[Any, ...] | None  # the row as it is now (`departments.cache.FIELDS`)
    businesses: list[int] = field(default_factory=list)  # at most two candidates
    case_id: int | None = None  # the keys (PostgreSQL), or None
    event_id: int | None = None
    clock_id: int | None = None


def _connection() -> BaseDatabaseWrapper:
    return connections[router.db_for_write(Case)]


def reserve(*, department: str, respondent: Respondent | None) -> Reserved:
    connection = _connection()
    if connection.vendor != "postgresql":
        return Reserved(
            department=department_cache.row_of(department),
            businesses=_candidates(respondent),
        )
    params: list[Any] = list(_sequences(connection.alias))
    if respondent is not None:
        params.append(respondent.uscc or respondent.name)
    params.append(department)
    with connection.cursor() as cursor:
        cursor.execute(_reserve_sql(_lookup(respondent)), params)
        row = cursor.fetchone()
    case_id, event_id, clock_id, businesses, *columns = row
    found = columns[0] is not None  # the department's primary key
    return Reserved(
        department=tuple(columns) if found else None,
        businesses=list(businesses),
        case_id=case_id,
        event_id=event_id,
        clock_id=clock_id,
    )


def _candidates(respondent: Respondent | None) -> list[int]:
    if respondent is None:
        return []
    found = matching_businesses(name=respondent.name, uscc=respondent.uscc)
    return list(found.order_by().values_list("id", flat=True)[:2])


def _lookup(respondent: Respondent | None) -> str:
    """Which businesses query `_reserve_sql` runs: by code, by name, or none."""
    if respondent is None:
        return "none"
    return "uscc" if respondent.uscc else "name"


@cache
def _sequences(alias: str) -> tuple[str, ...]:
    """The sequences of the keyed tables (asked once per process)."""
    with connections[alias].cursor() as cursor:
        names = []
        for model in KEYED:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [model._meta.db_table])
            names.append(cursor.fetchone()[0])
    return tuple(names)


@cache
def _reserve_sql(lookup: str) -> str:
    """The next keys, the candidate businesses (as `matching_businesses`, at most two) and the
    department's row: one statement, whether the department exists or not."""
    name = _connection().ops.quote_name
    table = name(Business._meta.db_table)
    where = {
        "uscc": f"b.{name('uscc')} = %s",
        "name": f"b.{name('name')} = %s AND b.{name('uscc')} = ''",
    }
    businesses = (
        f"ARRAY(SELECT b.{name('id')} FROM {table} b WHERE {where[lookup]} LIMIT 2)"  # noqa: S608
        if lookup in where
        else "ARRAY[]::bigint[]"
    )
    columns = ", ".join(f"d.{name(column)}" for column in department_cache.COLUMNS)
    keys = ", ".join(["nextval(%s::regclass)"] * len(KEYED))
    return (
        f"SELECT {keys}, {businesses}, {columns} "  # noqa: S608
        f"FROM (SELECT %s::varchar AS code) AS wanted "
        f"LEFT JOIN {name(Department._meta.db_table)} d ON d.{name('code')} = wanted.code"
    )


def insert(rows: Sequence[Model], statements: Sequence[tuple[str, list[Any]]]) -> None:
    """INSERT the rows (keys set; in this order), then run `statements`, in one pipeline: one
    round trip, inside the caller's transaction (PostgreSQL)."""
    connection = _connection()
    # The cursor first: it connects, and the pipeline is the connection's.
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        connection.connection.pipeline(),
    ):
        for row in rows:
            cursor.execute(_insert_sql(type(row)), _values(row, connection))
        for sql, params in statements:
            cursor.execute(sql, params)
    for row in rows:
        row._state.adding = False
        row._state.db = connection.alias


@cache
def _insert_sql(model: type[Model]) -> str:
    name = _connection().ops.quote_name
    fields = model._meta.concrete_fields
    columns = ", ".join(name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {name(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608


def _values(row: Model, connection: BaseDatabaseWrapper) -> list[Any]:
    """The row's values as `Model.save` sends them (`auto_now` set, each field's preparation)."""
    return [
        f.get_db_prep_save(f.pre_save(row, True), connection) for f in row._meta.concrete_fields
    ]
