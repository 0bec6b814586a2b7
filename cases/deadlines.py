"""Running clocks on a case (accept, mediate, verify, notify...): start, pause, resume, meet.

Due dates are Asia/Shanghai dates counted in working days with the day of receipt not counted
(o121 Art. 45), or in calendar days ending on a working day. Paused time (testing, appraisal) is
not counted: on resume the due date moves by the working days spent paused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Min, OuterRef, QuerySet, Subquery
from django.utils import timezone

from cases.models import Case, Deadline
from cases.rules import local_date
from departments.models import Department
from workdays.calendar import add_calendar_days, add_working_days, working_days_between

DUE_SOON_WORKING_DAYS = 2  # WORKFLOW.md, "Supervision": two or fewer working days left


def today() -> dt.date:
    return local_date(timezone.now())


def due_soon_limit(today: dt.date) -> dt.date:
    """The first due date that is *not* due soon: a clock due before it has two working days or
    fewer left (the working days in (today, due] are at most two). The sweep marks clocks by it;
    a clock whose date moves on past it loses the mark where it moves (`resume_clocks`,
    `cases.services._extend`), as the overdue mark does."""
    return add_working_days(today, DUE_SOON_WORKING_DAYS + 1)


def last_due_soon_day(today: dt.date) -> dt.date:
    """The last due date that is due soon (the day before `due_soon_limit`: a day off after the
    second working day counts, as the sweep marks it)."""
    return due_soon_limit(today) - dt.timedelta(days=1)


def start_clock(
    case: Case,
    *,
    kind: str,
    department: Department,
    start: dt.date,
    working_days: int | None = None,
    calendar_days: int | None = None,
) -> Deadline:
    """Open a clock of `kind` on the case, due `working_days` (or `calendar_days`) after `start`."""
    if (working_days is None) == (calendar_days is None):
        raise ValueError("give exactly one of working_days and calendar_days")
    due = (
        add_working_days(start, working_days)
        if working_days is not None
        else add_calendar_days(start, calendar_days or 0)
    )
    clock = Deadline.objects.create(
        case=case, kind=kind, department=department, started_on=start, due=due
    )
    if case.next_due is None or due < case.next_due:  # a new clock can only bring it forward
        Case.objects.filter(pk=case.pk).update(next_due=due)
        case.next_due = due
    return clock


def settle_next_due(case: Case) -> None:
    """Write `case.next_due` after its clocks opened, closed or moved (in the same transaction;
    `perform` calls it once per action)."""
    due = open_clocks(case).aggregate(due=Min("due"))["due"]
    if due != case.next_due:
        Case.objects.filter(pk=case.pk).update(next_due=due)
        case.next_due = due


def settle_next_due_of(case_ids: Iterable[int] | QuerySet) -> int:
    """`settle_next_due` for cases whose clocks changed outside `perform` (one statement; the
    ids may be a subquery)."""
    earliest = (
        Deadline.objects.filter(case=OuterRef("pk"), met_at__isnull=True, cancelled=False)
        .order_by()
        .values("case")
        .annotate(due=Min("due"))
        .values("due")
    )
    return Case.objects.filter(pk__in=case_ids).update(next_due=Subquery(earliest))


def open_clocks(case: Case, *kinds: str):
    clocks = Deadline.objects.filter(case=case, met_at__isnull=True, cancelled=False)
    return clocks.filter(kind__in=kinds) if kinds else clocks


def meet_clocks(case: Case, *kinds: str) -> int:
    """Mark open clocks of these kinds met now (all open clocks when no kind is given)."""
    return open_clocks(case, *kinds).update(met_at=timezone.now(), due_soon=False)


def cancel_clocks(case: Case, *kinds: str) -> int:
    return open_clocks(case, *kinds).update(cancelled=True, due_soon=False, overdue=False)


def pause_clocks(case: Case, *kinds: str, on: dt.date | None = None) -> int:
    return (
        open_clocks(case, *kinds)
        .filter(paused_since__isnull=True)
        .update(paused_since=on or today())
    )


def resume_clocks(case: Case, *kinds: str, on: dt.date | None = None) -> list[Deadline]:
    """Move each paused clock's due date on by the working days it spent paused; a mark the new
    date no longer earns (overdue, due soon) comes off with the move."""
    resumed_on = on or today()
    limit = due_soon_limit(resumed_on)
    clocks = list(open_clocks(case, *kinds).filter(paused_since__isnull=False))
    for clock in clocks:
        assert clock.paused_since is not None
        paused = working_days_between(clock.paused_since, resumed_on)
        clock.due = add_working_days(clock.due, paused) if paused else clock.due
        clock.paused_since = None
        clock.overdue = clock.overdue and clock.due < resumed_on
        clock.due_soon = clock.due_soon and clock.due < limit
        clock.save(update_fields=["due", "paused_since", "overdue", "due_soon"])
    return clocks
