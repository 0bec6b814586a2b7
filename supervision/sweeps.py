"""The deadline sweep: run every few minutes by beat, by `manage.py sweep_deadlines`, or by hand.

Healthchecks-style: every step is a conditional update or a claim re-checked under the case row
lock, so running the sweep twice, or two sweeps at once, marks, raises and tells nothing twice.

1. Mark clocks (set-based, one UPDATE each, over the partial index on open clocks' `due`):
   running clocks past their due date become overdue; those with two working days or fewer left
   become due soon; clocks no longer due soon (paused, or due later after a resume or an
   extension) lose the mark. A clock whose due date moves on is un-marked overdue by
   `cases.deadlines` itself.
2. Raise the one order each overdue clock owes (`raise_overdue_order`).
3. Escalate unanswered orders past their due date, one level a run, up to the national body.
4. End tracking of closed cases; raise the tracking orders that are due.
5. Tell units about clocks that turned due soon (once per clock and due date).

Steps 2-5 handle at most BATCH rows each a run; the next run carries on where this one stopped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from cases.deadlines import today as local_today
from cases.models import Deadline, Status
from departments.models import NATIONAL_CODE
from supervision import alerts
from supervision.models import DueSoonNotice, OrderKind, OrderStatus, SupervisionOrder, Tracking
from supervision.services import escalate_order, raise_overdue_order, raise_tracking_order
from workdays.calendar import add_working_days

DUE_SOON_WORKING_DAYS = 2
BATCH = 2000


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
    """One full sweep as of `today` (Asia/Shanghai; default: now)."""
    on = today or local_today()
    due_soon, overdue = mark_clocks(today=on)
    return SweepResult(
        due_soon=due_soon,
        overdue=overdue,
        overdue_orders=_each(_overdue_clocks(), lambda pk: raise_overdue_order(pk, today=on)),
        escalated=_each(_late_orders(on), lambda pk: escalate_order(pk, today=on)),
        tracking_ended=end_tracking_of_closed_cases(),
        tracking_orders=_each(_tracking_due(on), lambda pk: raise_tracking_order(pk, today=on)),
        due_soon_alerts=_each(_due_soon_untold(), _tell_due_soon),
    )


def _running_clocks() -> QuerySet[Deadline]:
    return Deadline.objects.filter(met_at__isnull=True, cancelled=False, paused_since__isnull=True)


def due_soon_limit(today: dt.date) -> dt.date:
    """The first due date that is *not* due soon: a clock due before it has two working days or
    fewer left (the working days in (today, due] are at most two)."""
    return add_working_days(today, DUE_SOON_WORKING_DAYS + 1)


def mark_clocks(*, today: dt.date) -> tuple[int, int]:
    """Set-based marking; returns (newly due soon, newly overdue)."""
    limit = due_soon_limit(today)
    running = _running_clocks()
    overdue = running.filter(due__lt=today, overdue=False).update(overdue=True, due_soon=False)
    due_soon = running.filter(due__gte=today, due__lt=limit, due_soon=False).update(due_soon=True)
    # Meeting or cancelling a clock clears its mark (cases.deadlines); a paused clock or one
    # whose due date moved on (resumed, extended) loses it here.
    Deadline.objects.filter(met_at__isnull=True, cancelled=False, due_soon=True).filter(
        Q(due__gte=limit) | Q(paused_since__isnull=False)
    ).update(due_soon=False)
    return due_soon, overdue


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


def _tell_due_soon(deadline_id: int) -> DueSoonNotice | None:
    """Alert the unit once per clock and due date; the unique notice row decides who tells."""
    try:
        with transaction.atomic():
            clock = Deadline.objects.select_related("case", "department").get(pk=deadline_id)
            notice, created = DueSoonNotice.objects.get_or_create(deadline=clock, due=clock.due)
            if not created:
                return None
            alerts.clock_due_soon(clock)
            return notice
    except IntegrityError:
        return None
