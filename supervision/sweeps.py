"""The deadline sweep: run every few minutes by beat, by `manage.py sweep_deadlines`, or by hand.

Healthchecks-style: every step is a conditional update, a claim re-checked under the case row
lock, or an insert a unique key decides, so running the sweep twice, or two sweeps at once,
marks, raises and tells nothing twice.

1. Mark clocks (set-based, one UPDATE each, over the partial index on open clocks' `due`):
   running clocks past their due date become overdue; those with two working days or fewer left
   become due soon; clocks no longer due soon (paused, or due later after a resume or an
   extension) lose the mark. A clock whose due date moves on is un-marked overdue by
   `cases.deadlines` itself. The marked clocks have partial indexes of their own (a few
   thousand rows), so un-marking and steps 2 and 5 read no more than them. The cases concerned
   are found first and marked BATCH at a time under their row locks, so that the change of
   their "now" flags is counted in the rollups (`rollups.counting_marks`).
2. Raise the one order each overdue clock owes (`raise_overdue_order`).
3. Escalate unanswered orders past their due date, one level a run, up to the national body.
4. End tracking of closed cases; raise the tracking orders that are due.
5. Tell units about clocks that turned due soon (once per clock and due date), set-based: one
   INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING writes the notices of up to BATCH untold
   clocks, and the alerts of exactly the notices it inserted are written in bulk in the same
   transaction. A racing sweep's INSERT waits for ours on the unique (deadline, due) key and then
   skips the row, so it returns (and tells) none of them; a rollback takes notices and alerts.

Steps 2-4 handle at most BATCH rows each a run (one transaction per row: each takes the case
lock); step 5 at most DUE_SOON_BATCH, BATCH per transaction. The next run carries on where this
one stopped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from cases.deadlines import due_soon_limit
from cases.deadlines import today as local_today
from cases.models import Deadline, Status
from departments.models import NATIONAL_CODE
from notifications.outbox import one_kick
from supervision import alerts, rollups
from supervision.models import DueSoonNotice, OrderKind, OrderStatus, SupervisionOrder, Tracking
from supervision.services import escalate_order, raise_overdue_order, raise_tracking_order

BATCH = 2000
# Step 5 is set-based (2,142 clocks told in ~1.5 s at 1M cases), so a busy morning's notices
# go out in one run; a run stays well inside the beat's 300 s.
DUE_SOON_BATCH = 10 * BATCH


@dataclass(frozen=True)
class SweepResult:
    """What one run changed: clocks newly marked, orders raised, alerts sent."""

    due_soon: int = 0
    overdue: int = 0
    overdue_orders: int = 0
    escalated: int = 0
    tracking_ended: int = 0
    tracking_orders: int = 0
    due_soon_alerts: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{name}={value}" for name, value in asdict(self).items())


def sweep_deadlines(*, today: dt.date | None = None) -> SweepResult:
    """One full sweep as of `today` (Asia/Shanghai; default: now). Notification delivery is
    kicked once at the end, not after each of the run's transactions."""
    on = today or local_today()
    with one_kick():
        due_soon, overdue = mark_clocks(today=on)
        return SweepResult(
            due_soon=due_soon,
            overdue=overdue,
            overdue_orders=_each(_overdue_clocks(), lambda pk: raise_overdue_order(pk, today=on)),
            escalated=_each(_late_orders(on), lambda pk: escalate_order(pk, today=on)),
            tracking_ended=end_tracking_of_closed_cases(),
            tracking_orders=_each(_tracking_due(on), lambda pk: raise_tracking_order(pk, today=on)),
            due_soon_alerts=tell_due_soon(),
        )


def _running_clocks() -> QuerySet[Deadline]:
    return Deadline.objects.filter(met_at__isnull=True, cancelled=False, paused_since__isnull=True)


def mark_clocks(*, today: dt.date) -> tuple[int, int]:
    """Set-based marking; returns (newly due soon, newly overdue). The cases whose clocks a mark
    goes on or comes off are taken BATCH at a time, each batch in a transaction that locks them
    and counts the change of their flags in the rollups (`rollups.counting_marks`)."""
    limit = due_soon_limit(today)
    due_soon = overdue = 0
    to_mark = _cases_to_mark(today, limit)
    for start in range(0, len(to_mark), BATCH):
        batch = to_mark[start : start + BATCH]
        with transaction.atomic(), rollups.counting_marks(batch):
            # Counted in the rollups as clocks decided late, too.
            overdue += rollups.mark_overdue(today=today, case_ids=batch)
            due_soon += (
                _turning_due_soon(today, limit).filter(case_id__in=batch).update(due_soon=True)
            )
            _no_longer_due_soon(limit).filter(case_id__in=batch).update(due_soon=False)
    return due_soon, overdue


def _turning_due_soon(today: dt.date, limit: dt.date) -> QuerySet[Deadline]:
    return _running_clocks().filter(due__gte=today, due__lt=limit, due_soon=False)


def _no_longer_due_soon(limit: dt.date) -> QuerySet[Deadline]:
    """Meeting or cancelling a clock clears its mark (cases.deadlines); a paused clock or one
    whose due date moved on (resumed, extended) loses it here."""
    marked = Deadline.objects.filter(met_at__isnull=True, cancelled=False, due_soon=True)
    return marked.filter(Q(due__gte=limit) | Q(paused_since__isnull=False))


def _cases_to_mark(today: dt.date, limit: dt.date) -> list[int]:
    """The cases with a clock that the marking changes (each part from its partial index): a
    running clock to mark overdue (the condition of `rollups.mark_overdue`) or due soon, a
    marked one to un-mark."""
    turning_overdue = _running_clocks().filter(overdue=False, due__lt=today)
    ids: set[int] = set()
    for clocks in (turning_overdue, _turning_due_soon(today, limit), _no_longer_due_soon(limit)):
        ids.update(clocks.values_list("case_id", flat=True))
    return sorted(ids)


def _each(ids: QuerySet, step: Callable[[int], object]) -> int:
    """Apply `step` to the first BATCH ids; how many did something (others were raced or moot)."""
    done = 0
    for pk in _ids(ids):
        if step(pk) is not None:
            done += 1
    return done


def _ids(rows: QuerySet) -> Iterable[int]:
    return list(rows.values_list("pk", flat=True)[:BATCH])


def _overdue_clocks() -> QuerySet[Deadline]:
    """Open overdue clocks that have not raised their order yet (none can above national)."""
    first_order = SupervisionOrder.objects.filter(
        deadline=OuterRef("pk"), kind=OrderKind.OVERDUE, round=0
    )
    held_nationally = Q(case__handler_unit_id=NATIONAL_CODE) | Q(
        case__handler_unit__isnull=True, case__department_id=NATIONAL_CODE
    )
    return (
        Deadline.objects.filter(met_at__isnull=True, cancelled=False, overdue=True)
        .exclude(held_nationally)
        .filter(~Exists(first_order))
        .order_by("due", "pk")
    )


def _late_orders(today: dt.date) -> QuerySet[SupervisionOrder]:
    return (
        SupervisionOrder.objects.filter(status=OrderStatus.OPEN, due__lt=today)
        .exclude(from_department_id=NATIONAL_CODE)
        .exclude(kind=OrderKind.TRACKING, case__status=Status.CLOSED)
        .order_by("due", "pk")
    )


def end_tracking_of_closed_cases() -> int:
    """Tracking runs until the case closes."""
    return Tracking.objects.filter(ended_at__isnull=True, case__status=Status.CLOSED).update(
        ended_at=timezone.now()
    )


def _tracking_due(today: dt.date) -> QuerySet[Tracking]:
    return Tracking.objects.filter(ended_at__isnull=True, next_order_on__lte=today).order_by(
        "next_order_on", "pk"
    )


def _due_soon_untold() -> QuerySet[Deadline]:
    told = DueSoonNotice.objects.filter(deadline=OuterRef("pk"), due=OuterRef("due"))
    return _running_clocks().filter(due_soon=True).filter(~Exists(told)).order_by("due", "pk")


def tell_due_soon(*, most: int | None = None) -> int:
    """Step 5: tell each unit about its clocks that turned due soon, once per clock and due date,
    at most `most` (default DUE_SOON_BATCH) clocks, BATCH per transaction; how many were told."""
    left = DUE_SOON_BATCH if most is None else most
    told = 0
    while left > 0:
        with transaction.atomic():
            notices = _claim_due_soon(min(BATCH, left))
            if notices:
                alerts.clocks_due_soon(_told_clocks(notices))
        if not notices:
            break
        told += len(notices)
        left -= len(notices)
    return told


_CLAIM_SQL = (
    "INSERT INTO {notices} (deadline_id, due, created_at) "
    "SELECT clock_id, clock_due, %s FROM ({untold}) AS untold WHERE true "
    "ON CONFLICT (deadline_id, due) DO NOTHING RETURNING deadline_id, due"
)


def _claim_due_soon(limit: int) -> dict[int, dt.date]:
    """Insert the notices of up to `limit` untold due-soon clocks in one statement and return the
    ones it inserted (clock id -> due date). A notice another sweep holds (committed, or
    uncommitted: the insert waits for it) is skipped by ON CONFLICT and not returned, so every
    notice is returned to exactly one sweep: the one that tells the unit."""
    untold_rows = _due_soon_untold().annotate(clock_id=F("pk"), clock_due=F("due"))
    rows = untold_rows.values_list("clock_id", "clock_due")[:limit]
    untold, params = rows.query.sql_with_params()
    # Quoted names and Django's compiled query only; every value is a parameter.
    table = connection.ops.quote_name(DueSoonNotice._meta.db_table)
    sql = _CLAIM_SQL.format(notices=table, untold=untold)  # noqa: S608
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *params])
        return {pk: _as_date(due) for pk, due in cursor.fetchall()}


def _as_date(value: dt.date | str) -> dt.date:
    """A DATE from a raw cursor: a date on PostgreSQL, ISO text on SQLite."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _told_clocks(notices: dict[int, dt.date]) -> list[Deadline]:
    """The clocks of the notices, each with the due date its notice records (the clock may have
    moved on since: the next run announces the new date)."""
    clocks = list(
        Deadline.objects.filter(pk__in=notices)
        .select_related("case")
        .only(
            "kind",
            "due",
            "department",
            "case__number",
            "case__disputed_with",
            "case__dispute_refused",
        )
    )
    for clock in clocks:
        clock.due = notices[clock.pk]
    return sorted(clocks, key=lambda clock: (clock.due, clock.pk))
