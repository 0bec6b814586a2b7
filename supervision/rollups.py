"""Exact rollups behind the monitoring overview (`supervision.stats`).

A case is held by its handling unit once accepted, else by its department. For every unit on
the holder's path, the holder included, it counts in the `Rollup` rows of that unit under
`child`, the next code down the path ("" at the holder itself). The overview of a department then
reads only its own rows: the total is the sum over every child, a child's figures its group.

What one case counts (`contributions`, Asia/Shanghai dates); keys are few on purpose, since
every key multiplies the rows (4.2M rows for 1M cases):
- received: 1 under "kind/channel" on the day it was received;
- open: 1 under its status on the fixed day `NOW` while it is open;
- closed: 1 under its outcome ("mediated", "terminated", else "") on the day it closed,
  `amount` = the money recovered;
- rated: 1 on the day it was rated, `amount` = the rating;
- clock: each clock not cancelled that was met or went overdue, 1 on its due date, `amount` =
  1 if it was met on or before its due date (the on-time count);
- flagged: 1 under "overdue" (and/or "due_soon") on the fixed day `NOW` while it is open and one
  of its open clocks (not met, not cancelled) is so marked by the sweep. A count per case, not
  per clock: the overview's "now" flags read a few rows instead of the country's marked clocks
  (~100,000 at 10M cases).

One metric follows another path: held, 1 under "kind/status" on `NOW` for every case, open or
closed, counted along its *department's* path (not the holder's), because the queue pages
(`cases.access`) see a case by the subtree its department lies in (its handling unit only adds
the few cases handled elsewhere). The exact queue counts (`cases.counting`) read it; 39,516
rows at 1M cases.

Every change writes its difference in the transaction of the change, as one upsert of rows
sorted by the unique key (concurrent writers lock rows in the same order): `case_filed`
(intake), `snapshot` + `record_change` (`cases.services.perform`), `mark_overdue` (the sweep),
`clocks_met` (clocks met outside `perform`), `counting_marks` (around the sweep's marking and a
notice clock met on delivery: the flags of the cases it locks). `snapshot` locks the case's
clocks before anything changes, and the sweep and the outbox read a clock's holder only after
their UPDATE has locked the clock (and now the case), so no clock is counted under a holder that
a concurrent `perform` is changing.
`rebuild_rollups` recomputes everything from the cases; `differences` audits the table. Moving a
department in the tree (its path) takes its subtree's rows to the new ancestors (`follow_move`,
in the move's transaction); a move that did not call it needs a rebuild (`--check` shows it).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Case as CaseWhen
from django.db.models import (
    CharField,
    Count,
    DateField,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, TruncDate

from cases.models import Case, Deadline, Outcome, Status
from cases.rules import SHANGHAI, local_date
from departments.models import Department
from supervision.models import Rollup

NOW = dt.date(2000, 1, 1)  # the day of the figures that have none (open cases)
OPEN_STATUSES = (Status.SUBMITTED, Status.ACCEPTED, Status.MEDIATING, Status.VERIFYING)
ZERO = Decimal("0.00")

RECEIVED = "received"  # key: "kind/channel"
OPEN = "open"  # key: status; day: NOW
CLOSED = "closed"  # key: CLOSED_KEYS or ""; amount: money recovered
RATED = "rated"  # amount: the sum of the ratings
CLOCK = "clock"  # day: the clock's due date; amount: how many were on time
HELD = "held"  # key: "kind/status"; day: NOW; along the department's path, not the holder's
FLAGGED = "flagged"  # key: FLAG_KEYS; day: NOW; open cases with an open clock so marked
OVERDUE_FLAG, DUE_SOON_FLAG = "overdue", "due_soon"
FLAG_KEYS = (OVERDUE_FLAG, DUE_SOON_FLAG)
PERIOD_METRICS = (RECEIVED, CLOSED, RATED, CLOCK)
CLOSED_KEYS = (Outcome.MEDIATED, Outcome.TERMINATED)  # the outcomes the overview tells apart
ONE = Decimal(1)

REBUILD_WORK_MEM = "256MB"  # PostgreSQL: the rebuild groups up to ~2M rows a level at 1M cases
COLUMNS = ("unit_id", "child", "metric", "day", "key", "n", "amount")
BATCH = 1000  # rows per upsert statement (SQLite binds at most 32766 values)

Cell = tuple[str, dt.date, str]  # metric, day, key
RowKey = tuple[str, str, dt.date, str, str]  # unit, metric, day, key, child: the unique key


class Clock(NamedTuple):
    """The fields of a clock that decide what it counts."""

    due: dt.date
    met_at: dt.datetime | None
    overdue: bool
    cancelled: bool
    due_soon: bool


CLOCK_FIELDS = Clock._fields


class Counts(dict[Any, tuple[int, Decimal]]):
    """(count, amount) per cell or per row."""

    def add(self, cell: Any, n: int = 1, amount: Decimal = ZERO) -> None:
        old_n, old_amount = self.get(cell, (0, ZERO))
        self[cell] = (old_n + n, old_amount + amount)


def contributions(case: Case, clocks: Sequence[Clock]) -> Counts:
    """What `case` with these clocks counts, per (metric, day, key), before the hierarchy."""
    counts = Counts()
    counts.add((RECEIVED, local_date(case.received_at), f"{case.kind}/{case.channel}"))
    if case.status in OPEN_STATUSES:
        counts.add((OPEN, NOW, case.status))
        for flag in flags_of(clocks):
            counts.add((FLAGGED, NOW, flag))
    if case.status == Status.CLOSED and case.closed_at is not None:
        outcome = case.outcome if case.outcome in CLOSED_KEYS else ""
        recovered = case.amount_recovered or ZERO
        counts.add((CLOSED, local_date(case.closed_at), outcome), 1, recovered)
    if case.satisfaction is not None and case.rated_at is not None:
        counts.add((RATED, local_date(case.rated_at), ""), 1, Decimal(case.satisfaction))
    for clock in clocks:
        decided = _decided(clock)
        if decided is not None:
            counts.add((CLOCK, clock.due, ""), 1, decided)
    return counts


def flags_of(clocks: Iterable[Clock]) -> list[str]:
    """The FLAG_KEYS an open case with these clocks counts under: a mark on an open clock."""
    overdue = due_soon = False
    for clock in clocks:
        if clock.met_at is None and not clock.cancelled:
            overdue = overdue or clock.overdue
            due_soon = due_soon or clock.due_soon
    return [flag for flag, on in ((OVERDUE_FLAG, overdue), (DUE_SOON_FLAG, due_soon)) if on]


def _decided(clock: Clock) -> Decimal | None:
    """None for a clock that counts nothing, else its on-time count (1 or 0)."""
    if clock.cancelled or (clock.met_at is None and not clock.overdue):
        return None
    on_time = clock.met_at is not None and local_date(clock.met_at) <= clock.due
    return ONE if on_time else ZERO


def held_key(kind: str, status: str) -> str:
    """The key of a case's HELD row."""
    return f"{kind}/{status}"


def _holder_path(case: Case) -> str:
    """The holder's path, from the relations already loaded (intake and `perform` load them)."""
    return (case.handler_unit or case.department).path


def spread(path: str, counts: Counts, *, sign: int = 1, into: Counts | None = None) -> Counts:
    """Counts of a case held at `path` as rows of every unit on the path (the hierarchy)."""
    rows = Counts() if into is None else into
    codes = [code for code in path.split("/") if code]
    for depth, unit in enumerate(codes):
        child = codes[depth + 1] if depth + 1 < len(codes) else ""
        for (metric, day, key), (n, amount) in counts.items():
            rows.add((unit, metric, day, key, child), sign * n, sign * amount)
    return rows


def upsert(rows: Counts) -> int:
    """Add the rows' counts to the table (one statement per BATCH rows); the rows written."""
    with connection.cursor() as cursor:
        for sql, params in upsert_statements(rows):
            cursor.execute(sql, params)
    return len(_changed(rows))


def upsert_statements(rows: Counts) -> list[tuple[str, list[Any]]]:
    """The statements `upsert` runs, for a caller that sends them in its own round trip."""
    changed = _changed(rows)
    batch = _upsert_arrays if connection.vendor == "postgresql" else _upsert_batch
    return [batch(changed[start : start + BATCH]) for start in range(0, len(changed), BATCH)]


def _changed(rows: Counts) -> list[tuple[RowKey, tuple[int, Decimal]]]:
    """The rows that change a count, sorted by the unique key (the order rows are locked in)."""
    return sorted((key, value) for key, value in rows.items() if value[0] != 0 or value[1] != ZERO)


def _upsert_arrays(rows: Sequence[tuple[RowKey, tuple[int, Decimal]]]) -> tuple[str, list[Any]]:
    """PostgreSQL: the rows as seven arrays, so the statement's text is the same whatever the
    number of rows (prepared once; psycopg parses a query with many parameters on every run).
    The rows are inserted in the arrays' order (`WITH ORDINALITY`), i.e. sorted by key."""
    # (unit, metric, day, key, child, n, amount) per row, turned into one list per column.
    flat = [(*key, *value) for key, value in rows]
    columns = [list(column) for column in zip(*flat, strict=True)]
    return _array_upsert_sql(), columns


@cache
def _array_upsert_sql() -> str:
    table, name = Rollup._meta.db_table, connection.ops.quote_name
    unique = ", ".join(name(c) for c in ("unit_id", "metric", "day", "key", "child"))
    arrays = "%s::varchar[], %s::varchar[], %s::date[], %s::varchar[], %s::varchar[], "
    return (
        f"INSERT INTO {name(table)} AS r ({unique}, n, amount) "  # noqa: S608
        f"SELECT u, m, d, k, c, n, a FROM unnest({arrays}%s::bigint[], %s::numeric[]) "
        "WITH ORDINALITY AS t(u, m, d, k, c, n, a, i) ORDER BY i "
        f"ON CONFLICT ({unique}) DO UPDATE SET n = r.n + excluded.n, "
        "amount = r.amount + excluded.amount"
    )


def _upsert_batch(rows: Sequence[tuple[RowKey, tuple[int, Decimal]]]) -> tuple[str, list[Any]]:
    """Other engines: the rows as a VALUES list."""
    table, name = Rollup._meta.db_table, connection.ops.quote_name
    ops = connection.ops
    params: list[Any] = []
    for (unit, metric, day, key, child), (n, amount) in rows:
        day_value = ops.adapt_datefield_value(day)
        params += [unit, metric, day_value, key, child, n, ops.adapt_decimalfield_value(amount)]
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(rows))
    unique = ", ".join(name(c) for c in ("unit_id", "metric", "day", "key", "child"))
    sql = (
        f"INSERT INTO {name(table)} ({unique}, n, amount) VALUES {values} "  # noqa: S608
        f"ON CONFLICT ({unique}) DO UPDATE SET n = {name(table)}.n + excluded.n, "
        f"amount = {name(table)}.amount + excluded.amount"
    )
    return sql, params


# --- Keeping the rollups exact ------------------------------------------------------------------


def case_rows(case: Case, clocks: Sequence[Clock]) -> Counts:
    """Every row a case with these clocks counts in (after the hierarchy): the one place that
    says so for intake, `perform`, the generator and the audits. Reads the case's fields and its
    department / handling unit paths (loaded relations, or objects with a `path`)."""
    rows = spread(_holder_path(case), contributions(case, clocks))
    held = Counts({(HELD, NOW, held_key(case.kind, case.status)): (1, ZERO)})
    return spread(case.department.path, held, into=rows)


def case_filed(case: Case) -> None:
    """Count a new case (in the transaction that files it). Its first clock is open and unflagged
    and so counts nothing yet: no query beyond the upsert."""
    upsert(case_rows(case, ()))


def follow_move(*, code: str, old_path: str, new_path: str) -> int:
    """Count the subtree of the department `code`, moved from `old_path` to `new_path`, under its
    new ancestors: its own rows (every case held in the subtree, whatever the child) come off the
    rows of the old ancestors and go onto the new ones'. The subtree's own rows do not change.
    Call in the transaction that moves it (`Department.save`, `load_divisions`); the rows written.
    Without it the HELD counters keep the subtree's cases under the old ancestors, whose staff
    then count cases they can no longer list (`cases.counting`)."""
    if old_path == new_path:
        return 0
    with transaction.atomic():
        totals = Counts()
        rows = Rollup.objects.select_for_update().filter(unit_id=code).order_by()
        for metric, day, key, n, amount in rows.values_list("metric", "day", "key", "n", "amount"):
            totals.add((metric, day, key), n, amount)
        moved = spread(new_path, totals)
        spread(old_path, totals, sign=-1, into=moved)  # the department's own rows cancel out
        return upsert(moved)


def moved_department(*, code: str, old_path: str, new_path: str, **_signal: object) -> None:
    """`departments.signals.department_moved` receiver."""
    follow_move(code=code, old_path=old_path, new_path=new_path)


@dataclass(frozen=True)
class Snapshot:
    rows: Counts


def _clocks(case: Case, *, lock: bool = False) -> list[Clock]:
    rows = Deadline.objects.filter(case_id=case.pk).order_by("pk")
    if lock:
        rows = rows.select_for_update()
    return [Clock(*row) for row in rows.values_list(*CLOCK_FIELDS)]


def snapshot(case: Case) -> Snapshot:
    """What the case counts before a change; call it with the case row locked. Locks its clocks
    (the sweep and the notice tasks, which change clocks without the case lock, wait)."""
    return Snapshot(case_rows(case, _clocks(case, lock=True)))


def record_change(before: Snapshot, case: Case) -> None:
    """Write the difference between `before` and what the changed case counts now."""
    rows = case_rows(case, _clocks(case))
    for key, (n, amount) in before.rows.items():
        rows.add(key, -n, -amount)
    upsert(rows)


def mark_overdue(*, today: dt.date, case_ids: Sequence[int] | None = None) -> int:
    """Mark running clocks due before `today` overdue (the sweep's set-based update; only the
    clocks of `case_ids` when given) and count each one as a clock decided late; how many were
    marked."""
    table, name = Deadline._meta.db_table, connection.ops.quote_name
    sql = (
        f"UPDATE {name(table)} SET overdue = %s, due_soon = %s "  # noqa: S608
        "WHERE met_at IS NULL AND cancelled = %s AND paused_since IS NULL AND overdue = %s "
        "AND due < %s"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        day = connection.ops.adapt_datefield_value(today)
        params: list[Any] = [True, False, False, False, day]
        if case_ids is not None:
            if not case_ids:
                return 0
            marks = ", ".join(["%s"] * len(case_ids))
            sql += f" AND case_id IN ({marks})"
            params += list(case_ids)
        cursor.execute(sql + " RETURNING case_id, due", params)
        marked = [(case_id, _as_date(due)) for case_id, due in cursor.fetchall()]
        _count_late(marked)
    return len(marked)


def _as_date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _count_late(marked: list[tuple[int, dt.date]]) -> None:
    """+1 late clock per newly overdue clock, grouped by holder and due date. The holders are
    read after the update: a `perform` changing a holder locks the clocks first, so it either
    committed before (its holder is read) or waits for this transaction (the old holder is)."""
    if not marked:
        return
    holders: dict[int, str] = {}
    ids = sorted({case_id for case_id, _ in marked})
    for start in range(0, len(ids), BATCH):
        cases = Case.objects.filter(pk__in=ids[start : start + BATCH]).values_list(
            "pk", "handler_unit_id", "department_id"
        )
        holders.update({pk: handler or department for pk, handler, department in cases})
    cells = Counter((holders[case_id], due) for case_id, due in marked)
    paths = _paths({holder for holder, _ in cells})
    rows = Counts()
    for (holder, due), n in cells.items():
        spread(paths[holder], Counts({(CLOCK, due, ""): (n, ZERO)}), into=rows)
    upsert(rows)


def _paths(codes: set[str]) -> dict[str, str]:
    return dict(Department.objects.filter(code__in=codes).values_list("code", "path"))


def clocks_met(deadline_ids: Iterable[int]) -> None:
    """Count clocks just met by an update outside `perform`, in the same transaction (the update
    met only open clocks: before, such a clock counted late if overdue, else nothing)."""
    rows = Counts()
    clocks = Deadline.objects.filter(pk__in=list(deadline_ids), met_at__isnull=False).values_list(
        *CLOCK_FIELDS, "case__handler_unit__path", "case__department__path"
    )
    for *fields, handler_path, department_path in clocks:
        clock = Clock(*fields)
        path = handler_path or department_path
        before = _decided(clock._replace(met_at=None))
        after = _decided(clock)
        for on_time, sign in ((before, -1), (after, 1)):
            if on_time is not None:
                spread(path, Counts({(CLOCK, clock.due, ""): (1, on_time)}), sign=sign, into=rows)
    upsert(rows)


@contextmanager
def counting_marks(case_ids: Sequence[int]) -> Iterator[None]:
    """Around a change of the marks (overdue, due soon, met, cancelled) of these cases' clocks
    that does not go through `perform` (the sweep's set-based marking, a notice clock met on
    delivery), inside the caller's transaction: lock the cases (in id order, as `perform` takes
    a case before its clocks), read their FLAGGED rows, and after the change write the
    difference. A change that touches no mark writes nothing."""
    ids = sorted(set(case_ids))
    before = _flag_cells(ids, lock=True)
    yield
    change = _flag_cells(ids, lock=False)
    change.subtract(before)
    rows = Counts()
    for (path, flag), n in change.items():
        if n:
            spread(path, Counts({(FLAGGED, NOW, flag): (n, ZERO)}), into=rows)
    upsert(rows)


def _flag_cells(case_ids: list[int], *, lock: bool) -> Counter[tuple[str, str]]:
    """How many of these cases count under each (holder's path, flag) as they stand."""
    holders: dict[int, str] = {}
    for start in range(0, len(case_ids), BATCH):
        cases = Case.objects.filter(pk__in=case_ids[start : start + BATCH]).order_by("pk")
        if lock:
            # `of=("self",)`: PostgreSQL cannot lock the nullable side of the handler_unit join.
            cases = cases.select_for_update(of=("self",))
        for pk, status, handler, department in cases.values_list(
            "pk", "status", "handler_unit__path", "department__path"
        ):
            if status in OPEN_STATUSES:
                holders[pk] = handler or department
    cells: Counter[tuple[str, str]] = Counter()
    open_ids = sorted(holders)
    for start in range(0, len(open_ids), BATCH):
        marked = (
            Deadline.objects.filter(case_id__in=open_ids[start : start + BATCH])
            .filter(Q(met_at__isnull=True, cancelled=False) & (Q(overdue=True) | Q(due_soon=True)))
            .order_by()
            .values_list("case_id", "overdue", "due_soon")
        )
        flags: dict[int, tuple[bool, bool]] = {}
        for case_id, overdue, due_soon in marked:
            was = flags.get(case_id, (False, False))
            flags[case_id] = (was[0] or overdue, was[1] or due_soon)
        for case_id, (overdue, due_soon) in flags.items():
            for flag, on in ((OVERDUE_FLAG, overdue), (DUE_SOON_FLAG, due_soon)):
                if on:
                    cells[(holders[case_id], flag)] += 1
    return cells


def recount_flags() -> int:
    """Replace the FLAGGED rows with a count from the cases and clocks (the upgrade that added the
    metric to tables counted before it); the rows written."""
    holder = Coalesce("handler_unit_id", "department_id", output_field=CharField())
    with transaction.atomic():
        if connection.vendor == "postgresql":
            table = connection.ops.quote_name(Rollup._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        Rollup.objects.filter(metric=FLAGGED).delete()
        cells = [row for flag in FLAG_KEYS for row in _flagged(flag, holder)]
        paths = _paths({row["holder"] for row in cells})
        rows = Counts()
        for row in cells:
            cell = Counts({(FLAGGED, NOW, row["key"]): (row["n"], ZERO)})
            spread(paths[row["holder"]], cell, into=rows)
        return upsert(rows)


# --- Rebuilding and auditing -------------------------------------------------------------------

_AMOUNT: DecimalField = DecimalField(max_digits=16, decimal_places=2)
_KEY: CharField = CharField(max_length=32)
_NO_AMOUNT = Value(ZERO, output_field=_AMOUNT)


def _cells(rows: QuerySet, metric: str, day: Any, key: Any, holder: Any, amount: Any) -> QuerySet:
    return (
        rows.order_by()
        .values(holder=holder, metric=Value(metric), day=day, key=key)
        .annotate(n=Count("pk"), amount=amount)
    )


def _per_holder() -> list[QuerySet]:
    """The counts per holding unit, straight from the cases and clocks (one query per metric;
    HELD per department)."""
    holder = Coalesce("handler_unit_id", "department_id", output_field=CharField())
    cases = Case.objects.all()
    closed = cases.filter(status=Status.CLOSED, closed_at__isnull=False)
    rated = cases.filter(satisfaction__isnull=False, rated_at__isnull=False)
    outcome = CaseWhen(
        When(outcome__in=CLOSED_KEYS, then=F("outcome")), default=Value(""), output_field=_KEY
    )
    return [
        _cells(
            cases,
            RECEIVED,
            TruncDate("received_at", tzinfo=SHANGHAI),
            Concat("kind", Value("/"), "channel", output_field=_KEY),
            holder,
            _NO_AMOUNT,
        ),
        _cells(
            cases.filter(status__in=OPEN_STATUSES),
            OPEN,
            Value(NOW, output_field=DateField()),
            F("status"),
            holder,
            _NO_AMOUNT,
        ),
        _cells(
            closed,
            CLOSED,
            TruncDate("closed_at", tzinfo=SHANGHAI),
            outcome,
            holder,
            Sum(Coalesce("amount_recovered", _NO_AMOUNT), output_field=_AMOUNT),
        ),
        _cells(
            rated,
            RATED,
            TruncDate("rated_at", tzinfo=SHANGHAI),
            Value("", output_field=_KEY),
            holder,
            Sum(Cast("satisfaction", _AMOUNT), output_field=_AMOUNT),
        ),
        _decided_clocks(),
        *(_flagged(flag, holder) for flag in FLAG_KEYS),
        _cells(
            cases,
            HELD,
            Value(NOW, output_field=DateField()),
            Concat("kind", Value("/"), "status", output_field=_KEY),
            F("department_id"),
            _NO_AMOUNT,
        ),
    ]


def _flagged(flag: str, holder: Coalesce) -> QuerySet:
    """The open cases with an open clock marked `flag` ("overdue" or "due_soon"), per holder."""
    marked = Deadline.objects.filter(
        case=OuterRef("pk"), met_at__isnull=True, cancelled=False, **{flag: True}
    )
    cases = Case.objects.filter(status__in=OPEN_STATUSES).filter(Exists(marked))
    now = Value(NOW, output_field=DateField())
    return _cells(cases, FLAGGED, now, Value(flag, output_field=_KEY), holder, _NO_AMOUNT)


def _decided_clocks() -> QuerySet:
    holder = Coalesce("case__handler_unit_id", "case__department_id", output_field=CharField())
    clocks = (
        Deadline.objects.filter(cancelled=False)
        .filter(Q(met_at__isnull=False) | Q(overdue=True))
        .annotate(met_on=TruncDate("met_at", tzinfo=SHANGHAI))
    )
    on_time = CaseWhen(
        When(met_at__isnull=False, met_on__lte=F("due"), then=Value(ONE)),
        default=_NO_AMOUNT,
        output_field=_AMOUNT,
    )
    amount = Sum(on_time, output_field=_AMOUNT)
    return _cells(clocks, CLOCK, F("due"), Value("", output_field=_KEY), holder, amount)


# Every department with each unit on its path (itself included) and the next code down from it.
_UP = """
up (code, unit, child) AS (
    SELECT code, code, CAST('' AS VARCHAR(12)) FROM {departments}
    UNION ALL
    SELECT up.code, d.parent_id, CAST(d.code AS VARCHAR(12))
    FROM up JOIN {departments} d ON d.code = up.unit
    WHERE d.parent_id IS NOT NULL
)"""


def _expected_sql() -> tuple[str, list[Any]]:
    """SELECT unit, child, metric, day, key, n, amount: the rows the table should hold, with
    the hierarchy expanded another way than `rebuild_rollups` does (so `--check` checks both)."""
    holders, params = _holders_sql()
    up = _UP.format(departments=connection.ops.quote_name(Department._meta.db_table))
    sql = (
        f"WITH RECURSIVE {up} "  # noqa: S608
        "SELECT up.unit, up.child, h.metric, h.day, h.key, SUM(h.n) AS n, SUM(h.amount) AS amount "
        f"FROM ({holders}) h JOIN up ON up.code = h.holder "
        "GROUP BY up.unit, up.child, h.metric, h.day, h.key"
    )
    return sql, params


def rebuild_rollups(*, bulk: bool = False) -> int:
    """Recompute the whole table from the cases, set-based; the rows written. First each holder's
    own rows, then level by level from the deepest up, each unit's rows summed into its parent's
    (under the unit as child). Other writers of the table wait for it (PostgreSQL: EXCLUSIVE
    lock); readers see the old rows until it commits.

    `bulk` (PostgreSQL; the workload generator, which holds its tables for the whole load):
    empty the table with TRUNCATE and build the primary key once after the rows are in, by
    sorting, instead of inserting millions of rows into it one by one. Readers wait meanwhile."""
    table, name = Rollup._meta.db_table, connection.ops.quote_name
    columns = ", ".join(name(c) for c in COLUMNS)
    holders, params = _holders_sql()
    bulk = bulk and connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {name(table)} IN EXCLUSIVE MODE")
            cursor.execute(f"SET LOCAL work_mem = '{REBUILD_WORK_MEM}'")  # sorts in memory
            # Whole-table aggregates: parallel workers pay here (web connections turn them off).
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 2")
        if bulk:
            # Rows upserted earlier in the transaction may have deferred foreign-key checks
            # pending, which TRUNCATE refuses: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute(f"TRUNCATE {name(table)}")
            primary_key = _drop_primary_key(cursor, table)
        else:
            cursor.execute(f"DELETE FROM {name(table)}")  # noqa: S608
        cursor.execute(f"INSERT INTO {name(table)} ({columns}) {holders}", params)  # noqa: S608
        written = cursor.rowcount
        for depth in _depths():
            level_up = _LEVEL_UP.format(
                rollups=name(table), departments=name(Department._meta.db_table)
            )
            cursor.execute(f"INSERT INTO {name(table)} ({columns}) {level_up}", [depth])
            written += cursor.rowcount
        if bulk:
            # The rows just inserted have their foreign-key checks pending (deferred), and
            # PostgreSQL refuses to alter a table with pending trigger events: check them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute(primary_key)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {name(table)}")  # the planner's view of the new rows
    return written


def _drop_primary_key(cursor: Any, table: str) -> str:
    """Drop the table's primary key constraint; the statement that adds it back."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'p'",
        [table],
    )
    constraint, definition = cursor.fetchone()
    quoted_table, quoted = connection.ops.quote_name(table), connection.ops.quote_name(constraint)
    cursor.execute(f"ALTER TABLE {quoted_table} DROP CONSTRAINT {quoted}")
    return f"ALTER TABLE {quoted_table} ADD CONSTRAINT {quoted} {definition}"


def _holders_sql() -> tuple[str, list[Any]]:
    """SELECT holder, '', metric, day, key, n, amount: each holder's own rows."""
    parts: list[str] = []
    params: list[Any] = []
    for rows in _per_holder():
        sql, part_params = rows.query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) part")  # noqa: S608 - SQL compiled by the ORM
        params += part_params
    union = " UNION ALL ".join(parts)
    sql = f"SELECT h.holder, '' AS child, h.metric, h.day, h.key, h.n, h.amount FROM ({union}) h"  # noqa: S608
    return sql, params


def _depths() -> list[int]:
    """The depths of the units that have a parent, deepest first (a path has one "/" a level)."""
    paths = Department.objects.filter(parent__isnull=False).values_list("path", flat=True)
    return sorted({path.count("/") for path in paths}, reverse=True)


# The rows of every unit at one depth, summed over their children, as its parent's rows.
_LEVEL_UP = """
SELECT d.parent_id, r.unit_id, r.metric, r.day, r.key, SUM(r.n), SUM(r.amount)
FROM {rollups} r JOIN {departments} d ON d.code = r.unit_id
WHERE d.parent_id IS NOT NULL AND LENGTH(d.path) - LENGTH(REPLACE(d.path, '/', '')) = %s
GROUP BY d.parent_id, r.unit_id, r.metric, r.day, r.key"""


@dataclass(frozen=True)
class Difference:
    """A cell whose stored count differs from the one recomputed from the cases."""

    unit: str
    child: str
    metric: str
    day: dt.date
    key: str
    stored: tuple[int, Decimal]
    expected: tuple[int, Decimal]

    def __str__(self) -> str:
        return (
            f"unit={self.unit} child={self.child or '-'} {self.metric}/{self.key or '-'} "
            f"{self.day}: stored n={self.stored[0]} amount={self.stored[1]:.2f}, "
            f"expected n={self.expected[0]} amount={self.expected[1]:.2f}"
        )


def differences() -> list[Difference]:
    """Every cell where the table and a recount from the cases disagree (empty when exact)."""
    table, name = Rollup._meta.db_table, connection.ops.quote_name
    expected, params = _expected_sql()
    stored = (
        f"SELECT {name('unit_id')} AS unit, child, metric, {name('day')} AS day, "  # noqa: S608
        f"{name('key')} AS key, n AS s_n, amount AS s_amount, 0 AS e_n, 0 AS e_amount "
        f"FROM {name(table)}"
    )
    recount = f"SELECT unit, child, metric, day, key, 0, 0, n, amount FROM ({expected}) e"  # noqa: S608
    sql = (
        "SELECT unit, child, metric, day, key, SUM(s_n), SUM(s_amount), SUM(e_n), SUM(e_amount) "  # noqa: S608
        f"FROM ({stored} UNION ALL {recount}) c GROUP BY unit, child, metric, day, key "
        "HAVING SUM(s_n) <> SUM(e_n) OR ROUND(SUM(s_amount), 2) <> ROUND(SUM(e_amount), 2) "
        "ORDER BY unit, metric, day, key, child"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        Difference(
            unit=unit,
            child=child,
            metric=metric,
            day=_as_date(day),
            key=key,
            stored=(int(s_n), _money(s_amount)),
            expected=(int(e_n), _money(e_amount)),
        )
        for unit, child, metric, day, key, s_n, s_amount, e_n, e_amount in rows
    ]


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(ZERO)
