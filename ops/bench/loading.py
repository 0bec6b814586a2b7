"""Bulk writes of generated rows: PostgreSQL COPY through psycopg, executemany on other engines.

A `Table` names the columns the generator fills, in its order; every other concrete field of the
model gets its default, so a field another app adds with a default does not break the generator,
and one added without a default fails loudly before anything is written.

On PostgreSQL, `CopyWriter` streams COPY text (tab-separated, `\\N` for NULL). The rows can be
formatted in worker processes (`Table.copy_text`) and only the text crosses to the writer. For
big loads `bulk_session` turns off foreign-key triggers for the transaction (the generator's rows
are consistent by construction; this needs a superuser, otherwise the checks stay on) and
`deferred_indexes` drops the secondary indexes of the tables being filled and builds them again
before commit, which is several times cheaper than maintaining a dozen indexes row by row. Both
are transactional: a failure rolls everything back, indexes included.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Protocol

from django.db import connection, models, transaction
from django.db.backends.utils import CursorWrapper

from cases.rules import SHANGHAI

Row = tuple[Any, ...]
_NULL = "\\N"
_JSON_TYPES = (dict, list)
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class SchemaMismatch(Exception):
    """The model no longer has a column the generator writes, or gained one it cannot fill."""


def _text(value: str) -> str:
    if "\\" in value or not value.isprintable():
        return value.translate(_COPY_ESCAPES)
    return value


def _json(value: Any) -> str:
    return _text(json.dumps(value, ensure_ascii=False))


ISO_DAYS: dict[int, str] = {}  # date ordinal -> ISO date (`iso_day`; read directly in hot paths)


def iso_day(ordinal: int) -> str:
    day = ISO_DAYS.get(ordinal)
    if day is None:
        day = ISO_DAYS[ordinal] = dt.date.fromordinal(ordinal).isoformat()
    return day


_DATES: dict[dt.date, str] = {}


def day_text(day: dt.date) -> str:
    """`str(day)` (what an f-string writes), memoised: `date.__format__` costs ~0.5 us."""
    text = _DATES.get(day)
    if text is None:
        text = _DATES[day] = day.isoformat()
    return text


# The generator's moments are whole seconds in Asia/Shanghai (+08:00 all year since 1992). Their
# text is looked up rather than formatted: subtracting a moment of the same zone is plain
# arithmetic (no offset lookup) that gives the day and the second of the day, and each second of
# a day has its text made once (tables of 86,400 strings, filled on first use).
SINCE = dt.datetime(2000, 1, 1, tzinfo=SHANGHAI)
SINCE_ORDINAL = SINCE.toordinal()
_LOCAL_SECONDS: list[str] = []  # second of the day -> " HH:MM:SS+08:00"


def seconds_texts(into: list[str], before: str, after: str) -> list[str]:
    """Fill `into` with the text of every second of a day, between `before` and `after`."""
    if not into:
        two = [f"{n:02d}" for n in range(60)]
        into.extend(f"{before}{h}:{m}:{s}{after}" for h in two[:24] for m in two for s in two)
    return into


def looked_up(
    moment: dt.datetime, since: dt.datetime, seconds: list[str], before: str, after: str
) -> str | None:
    """The moment's text from the tables (its day counted from `since`, which starts a day of
    the text's zone), or None for a moment they do not hold."""
    if moment.tzinfo is SHANGHAI and not moment.microsecond:
        delta = moment - since
        days = delta.days
        if days >= 0:
            ordinal = SINCE_ORDINAL + days
            day = ISO_DAYS.get(ordinal) or iso_day(ordinal)
            return day + (seconds or seconds_texts(seconds, before, after))[delta.seconds]
    return None


def moment_text(moment: dt.datetime) -> str:
    """`str(moment)`, which COPY reads; looked up for the generator's moments (see above)."""
    return looked_up(moment, SINCE, _LOCAL_SECONDS, " ", "+08:00") or str(moment)


_FORMATS: dict[type, Callable[[Any], str]] = {
    str: _text,
    int: str,
    bool: lambda value: "t" if value else "f",
    dt.datetime: moment_text,
    dt.date: dt.date.isoformat,
    Decimal: str,
    dict: _json,
    list: _json,
}


def _format_for(kind: type) -> Callable[[Any], str]:
    """The formatter of a type or of its nearest base (text choices are str subclasses)."""
    for base in kind.__mro__:
        if base in _FORMATS:
            _FORMATS[kind] = _FORMATS[base]
            return _FORMATS[base]
    raise TypeError(f"cannot write {kind.__name__} values with COPY")


def copy_value(value: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    format_ = _FORMATS.get(type(value))
    return (format_ or _format_for(type(value)))(value)


class Table:
    """The columns of `model` the generator provides (attnames, in row order) and the defaults
    of the others. JSON columns take either a JSON text or a dict/list. `line`, when given,
    writes a row's own columns as COPY text (the same text as `copy_value`, faster)."""

    def __init__(
        self,
        model: type[models.Model],
        columns: Sequence[str],
        line: Callable[[Row], str] | None = None,
    ) -> None:
        fields = {f.attname: f for f in model._meta.concrete_fields}
        unknown = [name for name in columns if name not in fields]
        if unknown:
            raise SchemaMismatch(f"{model._meta.label} has no column {', '.join(unknown)}")
        self.model = model
        self.name = model._meta.db_table
        self.columns = tuple(columns)
        self.fields = [fields[name] for name in columns]
        self.tail_fields = [f for name, f in fields.items() if name not in set(columns)]
        self.tail = tuple(self._default(f) for f in self.tail_fields)
        self.db_columns = [f.column for f in self.fields + self.tail_fields]
        self.copy_tail = "".join("\t" + copy_value(value) for value in self.tail)
        self.line = line

    @staticmethod
    def _default(field: models.Field) -> Any:
        auto_time = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        if auto_time or (not field.has_default() and not field.null and not field.blank):
            raise SchemaMismatch(
                f"{field.model._meta.label}.{field.name} has no default: the generator must fill it"
            )
        return field.get_default()

    @property
    def copy_sql(self) -> str:
        columns = ", ".join(f'"{column}"' for column in self.db_columns)
        return f'COPY "{self.name}" ({columns}) FROM STDIN'

    @property
    def insert_sql(self) -> str:
        columns = ", ".join(f'"{column}"' for column in self.db_columns)
        marks = ", ".join(["%s"] * len(self.db_columns))
        return f'INSERT INTO "{self.name}" ({columns}) VALUES ({marks})'  # noqa: S608 - model names

    def copy_text(self, rows: Sequence[Row]) -> str:
        """The rows as COPY text, each with the defaults appended.

        Fast path: the table's own `line` function when it has one (the generator's big tables:
        values written out without escaping), else None becomes \\N, dicts and lists JSON,
        everything else `str()` (PostgreSQL reads Python's str() of bool, date, datetime and
        Decimal). The result is checked as a whole (one tab fewer than columns per row, one
        newline per row, no backslash but those of \\N); text that needs escaping takes the
        exact path instead.
        """
        tail = self.copy_tail + "\n"
        if not rows:
            return ""
        if self.line is not None:
            text = tail.join([*map(self.line, rows), ""])  # "" for the last tail: no copy
        else:
            dumps = json.dumps
            text = "".join(
                "\t".join(
                    [
                        v
                        if type(v) is str
                        else _NULL
                        if v is None
                        else dumps(v, ensure_ascii=False)
                        if type(v) in _JSON_TYPES
                        else str(v)
                        for v in row
                    ]
                )
                + tail
                for row in rows
            )
        tabs = len(self.db_columns) - 1
        if (
            text.count("\n") == len(rows)
            and text.count("\t") == tabs * len(rows)
            and text.count("\\") == text.count(_NULL)
            and "\r" not in text
        ):
            return text
        return "".join("\t".join(map(copy_value, row)) + tail for row in rows)

    def db_values(self, row: Row) -> list[Any]:
        """A row ready for executemany on any engine (the fields' own conversions)."""
        values = []
        for field, value in zip(self.fields + self.tail_fields, row + self.tail, strict=True):
            if isinstance(field, models.JSONField) and isinstance(value, str):
                values.append(value)  # already JSON text
            else:
                values.append(field.get_db_prep_save(value, connection))
        return values


class Writer(Protocol):
    def write_rows(self, table: Table, rows: Sequence[Row]) -> None: ...

    def write_text(self, table: Table, text: str | bytes) -> None: ...


class CopyWriter:
    """COPY into PostgreSQL on the Django connection's psycopg connection (same transaction)."""

    def __init__(self) -> None:
        self.cursor = connection.connection.cursor()

    def write_text(self, table: Table, text: str | bytes, *, into: str | None = None) -> None:
        """COPY text, as str or already encoded in UTF-8 (the connection's encoding); `into` a
        table of the same columns instead of the model's (a temporary table)."""
        if not text:
            return
        sql = table.copy_sql if into is None else table.copy_sql.replace(table.name, into, 1)
        with self.cursor.copy(sql) as copy:
            copy.write(text)

    def write_rows(self, table: Table, rows: Sequence[Row]) -> None:
        self.write_text(table, table.copy_text(rows))


class InsertWriter:
    """executemany with each field's conversions: SQLite and anything without COPY."""

    def __init__(self, cursor: CursorWrapper) -> None:
        self.cursor = cursor

    def write_rows(self, table: Table, rows: Sequence[Row]) -> None:
        if rows:
            self.cursor.executemany(table.insert_sql, [table.db_values(row) for row in rows])

    def write_text(self, table: Table, text: str | bytes) -> None:
        raise TypeError("COPY text is for PostgreSQL only: write_rows serves SQLite")


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def next_id(model: type[models.Model]) -> int:
    """One past the highest id (explicit ids keep the generated rows deterministic)."""
    top = model._default_manager.aggregate(top=models.Max("pk"))["top"]
    return int(top or 0) + 1


def lock_tables(models_: Sequence[type[models.Model]]) -> None:
    """Keep other writers out until commit, so the ids counted from max(id) stay free."""
    if is_postgresql():
        names = ", ".join(f'"{m._meta.db_table}"' for m in models_)
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")


@contextmanager
def bulk_session() -> Iterator[bool]:
    """Inside the caller's transaction: session settings for a big load. Yields whether the
    foreign-key triggers are off (PostgreSQL superuser) for the rest of the transaction."""
    if not is_postgresql():
        yield False
        return
    with connection.cursor() as cursor:
        # Index and primary-key builds sort in memory, in parallel processes; the sorts and
        # hashes of the load's queries too; the commit does not wait for the WAL flush (a crash
        # right after it loses the load, never half of it).
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        workers = min(os.cpu_count() or 1, 8)
        cursor.execute(f"SET LOCAL max_parallel_maintenance_workers = {workers:d}")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL synchronous_commit = off")
        try:
            with transaction.atomic():
                cursor.execute("SET LOCAL session_replication_role = replica")
            triggers_off = True
        except Exception:  # noqa: BLE001 - not a superuser: the checks simply stay on
            triggers_off = False
    yield triggers_off


def secondary_indexes(tables: Sequence[str]) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the non-unique indexes of `tables`."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname, pg_get_indexdef(i.oid)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relname = ANY(%s) AND NOT x.indisunique AND NOT x.indisprimary
            ORDER BY t.relname, i.relname
            """,
            [list(tables)],
        )
        return [(name, definition) for name, definition in cursor.fetchall()]


@contextmanager
def deferred_indexes(tables: Sequence[str], *, enabled: bool) -> Iterator[list[str]]:
    """Drop the secondary indexes of `tables` for the block and build them again after it (in
    the same transaction). Unique indexes stay: they guard the data while it goes in, and
    building the big ones after the load instead (events' two, the case number) measured no
    cheaper: ~5 us a case less in COPY, as much more in the builds."""
    if not enabled or not is_postgresql():
        yield []
        return
    indexes = secondary_indexes(tables)
    with connection.cursor() as cursor:
        # Rows written earlier in the transaction may have deferred foreign-key checks pending,
        # and PostgreSQL refuses to change the indexes of a table with pending trigger events:
        # run those checks now, then defer again.
        run_deferred_checks(cursor)
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    yield [name for name, _definition in indexes]
    with connection.cursor() as cursor:
        for _name, definition in indexes:
            cursor.execute(definition)


def run_deferred_checks(cursor: CursorWrapper) -> None:
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@contextmanager
def deferred_primary_key(table: str) -> Iterator[None]:
    """Drop the primary key of `table` for the block and add it back after it (same transaction):
    for a table filled from empty, one build by sorting instead of an index insert per row.
    Adding it back fails (and the transaction rolls back) if the rows broke it."""
    quoted = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'p'",
            [quoted],
        )
        name, definition = cursor.fetchone()
        constraint = connection.ops.quote_name(name)
        run_deferred_checks(cursor)
        cursor.execute(f"ALTER TABLE {quoted} DROP CONSTRAINT {constraint}")
    yield
    with connection.cursor() as cursor:
        run_deferred_checks(cursor)
        cursor.execute(f"ALTER TABLE {quoted} ADD CONSTRAINT {constraint} {definition}")


def row_count_estimate(model: type[models.Model]) -> int:
    """Planner's row estimate on PostgreSQL (instant); an exact count elsewhere."""
    if not is_postgresql():
        return model._default_manager.count()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [model._meta.db_table]
        )
        found = cursor.fetchone()
    return max(int(found[0]), 0) if found else 0


def finish_tables(models_: Sequence[type[models.Model]]) -> None:
    """After explicit ids: move the id sequences past them; refresh the planner's statistics."""
    if not is_postgresql():
        return
    with connection.cursor() as cursor:
        for model in models_:
            table = model._meta.db_table
            top = f'SELECT COALESCE(MAX(id), 1) FROM "{table}"'  # noqa: S608 - a model's table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), ({top}))", [table])
        for model in models_:
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')
