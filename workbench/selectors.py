"""What the workbench reads: the active membership, the queues, their counts and their rows.

Every query starts from `cases.access.cases_in_subtree` (the cases the user may see, held or
handled in the subtree of the membership they work in), so the workbench never shows more than
the access rules allow. Counting, when the user is staff over the subtree and no filter needs
the rows: the status queues (to accept, in hand, closed) are exact sums of the HELD counters
(`cases.counting.held_in_unit`), the deadline queues of a small subtree are counted in one pass
over its open cases, and the few cases handled there but held elsewhere are counted for every
queue in one more query. Otherwise (a province or the country, words or dates in the filters)
each queue is counted by one bounded query (`count_parts`: held, then handled elsewhere, each
from an index; no further than COUNT_CAP + 1, shown as "10,000+"). The rows of a page come from
one more query (`select_related`, the next due date as a correlated subquery; the deadline
queues of a small subtree look up the cases handled there but held elsewhere first), so a
county's page costs about the same at a thousand cases as at a million.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import (
    Count,
    DateField,
    Exists,
    Expression,
    F,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, User
from cases.access import (
    cases_in_subtree,
    count_parts,
    held_then_handled,
    staff_over_department,
    subtree_parts,
    units_under,
)
from cases.counting import held_in_unit
from cases.deadlines import last_due_soon_day
from cases.deadlines import today as local_today
from cases.models import Case, Deadline, Status
from cases.rules import SHANGHAI
from departments.models import Department

PAGE_SIZE = 50
# Counting a queue stops here: past it the number is O(rows) to get and of no use to read.
COUNT_CAP = 10_000
# Up to this many units (a county with its stations, a city) the deadline queues probe each open
# case's clocks; above it (a province) they start from the country's late clocks.
SMALL_SUBTREE_UNITS = 50
# What the queue table shows of a case (pages.rows, workbench/queue.html), and all a row loads:
# neither the long texts nor the other columns of the case and its units are read or sorted.
LISTED = (
    "number",
    "kind",
    "received_at",
    "respondent_name",
    "category",
    "status",
    "outcome",
    "is_major",
    "next_due",
    "department__name",
    "handler_unit__name",
)
IN_HAND = (Status.ACCEPTED, Status.MEDIATING, Status.VERIFYING)
OPEN = (Status.SUBMITTED, *IN_HAND)


class Queue(StrEnum):
    TO_ACCEPT = "to-accept"
    IN_HAND = "in-hand"
    DUE_SOON = "due-soon"
    OVERDUE = "overdue"
    CLOSED = "closed"
    DISPUTES = "disputes"

    @property
    def label(self) -> str:
        return str(QUEUE_LABELS[self])


QUEUE_LABELS = {
    Queue.TO_ACCEPT: _("待受理"),
    Queue.IN_HAND: _("办理中"),
    Queue.DUE_SOON: _("即将到期"),
    Queue.OVERDUE: _("已超期"),
    Queue.CLOSED: _("已办结"),
    Queue.DISPUTES: _("管辖争议"),
}

# Sort keys allowed in `?sort=` (a leading "-" reverses) and the columns they order by.
SORTS: dict[str, tuple[str, ...]] = {
    "number": ("number",),
    "kind": ("kind", "number"),
    "received_at": ("received_at", "id"),
    "respondent": ("respondent_name", "number"),
    "category": ("category", "number"),
    "unit": ("current_unit", "number"),
    "status": ("status", "number"),
    "next_due": ("next_due", "number"),
}
# The queues the HELD counters answer: their statuses, and whether only the cases held by the
# department itself count (to accept: its own intake, not its stations').
COUNTED_QUEUES: dict[Queue, tuple[tuple[str, ...], bool]] = {
    Queue.TO_ACCEPT: ((Status.SUBMITTED,), True),
    Queue.IN_HAND: (IN_HAND, False),
    Queue.CLOSED: ((Status.CLOSED,), False),
}
DEADLINE_QUEUES = (Queue.DUE_SOON, Queue.OVERDUE)
DEFAULT_SORT = {
    Queue.TO_ACCEPT: "received_at",  # first come, first served
    Queue.IN_HAND: "next_due",
    Queue.DUE_SOON: "next_due",
    Queue.OVERDUE: "next_due",
    Queue.CLOSED: "-received_at",
    Queue.DISPUTES: "next_due",
}


@dataclass(frozen=True)
class QueueFilters:
    kind: str = ""
    status: str = ""
    q: str = ""
    received_from: dt.date | None = None
    received_to: dt.date | None = None

    @property
    def active(self) -> bool:
        return any((self.kind, self.status, self.q, self.received_from, self.received_to))


# --- The active membership --------------------------------------------------------------------


def memberships_of(user: User) -> list[Membership]:
    """The user's memberships, in a fixed order (the first is the default)."""
    if not user.is_authenticated:
        return []
    return list(Membership.objects.filter(user=user).select_related("department").order_by("id"))


def active_membership(memberships: list[Membership], chosen_id: object) -> Membership | None:
    """The membership chosen in the session if it is still one of the user's, else the first."""
    for membership in memberships:
        if str(membership.pk) == str(chosen_id):
            return membership
    return memberships[0] if memberships else None


# --- Queues -----------------------------------------------------------------------------------


class DateLiteral(Expression):
    """A date written into the statement's text, not passed as a parameter: a plan PostgreSQL
    keeps for a prepared statement (generic, after ten runs) then still knows how many clocks
    a date range holds. The statement text changes once a day."""

    output_field = DateField()

    def __init__(self, day: dt.date) -> None:
        super().__init__()
        self.day = day

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return f"'{self.day.isoformat()}'", []

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return f"DATE '{self.day.isoformat()}'", []


def _open_deadlines() -> QuerySet[Deadline]:
    return Deadline.objects.filter(met_at__isnull=True, cancelled=False)


def _with_clocks(conditions: list[Q], *, small: bool) -> Q:
    """Cases with an open clock meeting one of `conditions`.

    PostgreSQL cannot estimate how few open clocks are late, so the approach is chosen here: in
    a small subtree each open case's clocks are probed (`open_deadline_case` holds what the
    conditions read, no row is visited); in a large one the late clocks of the whole country
    are gathered, each condition through its own index, and matched to the cases by id."""
    if small:
        clocks = _open_deadlines().filter(reduce(or_, conditions), case=OuterRef("pk"))
        return Q(Exists(clocks))
    arms = [_open_deadlines().filter(c).order_by().values("case_id") for c in conditions]
    return Q(pk__in=arms[0].union(*arms[1:], all=True))


def _has_overdue_clock(today: dt.date, *, small: bool) -> Q:
    """An open clock past its due date (a paused clock is not running), or one the sweep has
    flagged overdue (`open_deadline_due`, `open_deadline_overdue`). Either is due before today
    (the sweep flags a clock only once its due date has passed; resuming or extending it clears
    the flag when the new date lies ahead), so only cases whose next due date has passed
    (`case_dept_status_due`) have their clocks looked at."""
    late = [Q(due__lt=DateLiteral(today), paused_since__isnull=True), Q(overdue=True)]
    return Q(next_due__lt=DateLiteral(today)) & _with_clocks(late, small=small)


def _has_due_soon_clock(today: dt.date, *, small: bool) -> Q:
    """An open clock due within two working days, or flagged due soon, and not past due yet
    (`open_deadline_due`, `open_deadline_due_soon`): two bounded ranges, as `due >= today`
    alone would read every future clock."""
    limit = last_due_soon_day(today)
    running = Q(
        due__gte=DateLiteral(today),
        due__lte=DateLiteral(limit),
        paused_since__isnull=True,
        overdue=False,
    )
    # "after yesterday", not "from today": PostgreSQL would take a bound common to both sides
    # out of the OR and read every future clock by it.
    yesterday = DateLiteral(today - dt.timedelta(days=1))
    flagged = Q(due_soon=True, due__gt=yesterday, overdue=False)
    # A case with such a clock has its next due date within the limit: a flagged clock is due
    # within it (the sweep flags by the same window; a move past it takes the flag off).
    return Q(next_due__lte=DateLiteral(limit)) & _with_clocks([running, flagged], small=small)


def _is_small(department: Department) -> bool:
    units = units_under(department)
    return units is not None and len(units) <= SMALL_SUBTREE_UNITS


def queue_condition(queue: Queue, department: Department, today: dt.date) -> Q:
    """The condition a case in the department's subtree meets to be in `queue`. Open is
    spelled as the open statuses, which the (unit, status) indexes look up directly."""
    if queue == Queue.TO_ACCEPT:
        return Q(status=Status.SUBMITTED, department=department)
    if queue == Queue.IN_HAND:
        return Q(status__in=IN_HAND)
    if queue == Queue.DUE_SOON:
        return Q(status__in=OPEN) & _has_due_soon_clock(today, small=_is_small(department))
    if queue == Queue.OVERDUE:
        return Q(status__in=OPEN) & _has_overdue_clock(today, small=_is_small(department))
    if queue == Queue.DISPUTES:
        # Open authority disputes the subtree raised, is named in, or (above both) designates
        # in: `cases_in_subtree` already holds the cases named there (`case_disputed_with`).
        return Q(status=Status.SUBMITTED, disputed_with__isnull=False)
    return Q(status=Status.CLOSED)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)


def _filtered(cases: QuerySet[Case], filters: QueueFilters) -> QuerySet[Case]:
    if filters.kind:
        cases = cases.filter(kind=filters.kind)
    if filters.status:
        cases = cases.filter(status=filters.status)
    if filters.q:
        cases = cases.filter(
            Q(number=filters.q.upper())
            | Q(respondent_name__icontains=filters.q)
            | Q(facts__icontains=filters.q)
        )
    if filters.received_from:
        cases = cases.filter(received_at__gte=_day_start(filters.received_from))
    if filters.received_to:
        next_day = filters.received_to + dt.timedelta(days=1)
        cases = cases.filter(received_at__lt=_day_start(next_day))
    return cases


def subtree_cases(
    user: User, department: Department, filters: QueueFilters | None = None
) -> QuerySet[Case]:
    """The cases the user may see that are held or handled in the department's subtree."""
    return _filtered(cases_in_subtree(user, department), filters or QueueFilters())


def queue_counts(
    user: User,
    department: Department,
    filters: QueueFilters | None = None,
    *,
    today: dt.date | None = None,
) -> dict[Queue, int]:
    """How many cases each queue holds (see the module docstring for how). At the busiest
    county and its city of the 1M-case benchmark: three statements, ~3 ms of SQL."""
    day = today or local_today()
    filters = filters or QueueFilters()
    parts = [_filtered(part, filters) for part in subtree_parts(user, department)]
    counts: Counter[Queue] = Counter()
    exact: list[Queue] = []
    if _counters_hold(user, department, filters):
        # The status queues from the counters; in a small subtree the deadline queues from one
        # pass over its open cases. The cases handled elsewhere or named in a dispute (few) are
        # counted alongside, with the subtree's open disputes.
        small = _is_small(department)
        exact = [*COUNTED_QUEUES, *(DEADLINE_QUEUES if small else ())]
        counts.update(_held_status_counts(department, filters))
        counts.update(_elsewhere_and_disputes(department, filters, exact, day))
        exact.append(Queue.DISPUTES)
        if small:
            counts.update(_counted_together(parts[0], DEADLINE_QUEUES, department, day))
    for queue in Queue:
        if queue not in exact:
            in_queue = [part.filter(queue_condition(queue, department, day)) for part in parts]
            counts[queue] = count_parts(in_queue, limit=COUNT_CAP + 1)
    return {queue: counts[queue] for queue in Queue}


def _elsewhere_and_disputes(
    department: Department, filters: QueueFilters, queues: Sequence[Queue], day: dt.date
) -> dict[Queue, int]:
    """In one pass: how many of the cases seen in the subtree but not held there (handled
    there, or named there in an authority dispute) each of `queues` holds, and how many open
    disputes the subtree has, held there or not (all from small partial indexes)."""
    held, *elsewhere = held_then_handled(units_under(department))
    rest = reduce(or_, elsewhere, Q(pk__in=[]))
    disputes = queue_condition(Queue.DISPUTES, department, day)
    cases = _filtered(Case.objects.filter(rest | (held & disputes)), filters)
    conditions = {q.value: rest & queue_condition(q, department, day) for q in queues}
    conditions[Queue.DISPUTES.value] = disputes
    found = cases.aggregate(**{name: Count("pk", filter=c) for name, c in conditions.items()})
    return {Queue(name): n for name, n in found.items()}


def _counters_hold(user: User, department: Department, filters: QueueFilters) -> bool:
    """Whether the HELD counters answer the status queues: the user is staff over the whole
    subtree (so `subtree_parts` starts with the cases held in it) and no filter needs rows."""
    needs_rows = filters.q or filters.received_from or filters.received_to
    return not needs_rows and staff_over_department(user, department)


def _held_status_counts(department: Department, filters: QueueFilters) -> dict[Queue, int]:
    """The cases held in the department's subtree that each status queue shows, from its HELD
    counters (one read of a few rows)."""
    held = held_in_unit(department)
    return {
        queue: sum(
            n
            for (kind, status, own), n in held.items()
            if status in statuses
            and (own or not at_unit)
            and filters.kind in ("", kind)
            and filters.status in ("", status)
        )
        for queue, (statuses, at_unit) in COUNTED_QUEUES.items()
    }


def _counted_together(
    cases: QuerySet[Case], queues: Sequence[Queue], department: Department, day: dt.date
) -> dict[Queue, int]:
    """How many of `cases` each queue holds, in one pass; exact, for sets of bounded size (the
    cases handled elsewhere, the open cases of a small subtree)."""
    if set(queues) <= set(DEADLINE_QUEUES):
        # What the deadline queues share, read from `case_dept_status_due`.
        cases = cases.filter(status__in=OPEN, next_due__lte=DateLiteral(last_due_soon_day(day)))
    conditions = {queue.value: queue_condition(queue, department, day) for queue in queues}
    found = cases.aggregate(**{name: Count("pk", filter=c) for name, c in conditions.items()})
    return {queue: found[queue.value] for queue in queues}


def is_capped(count: int) -> bool:
    """Whether a count from `queue_counts` stopped at the cap (the queue holds more). A bounded
    count stops at COUNT_CAP + 1, so a larger one is exact (from the counters); an exact count
    of COUNT_CAP + 1 reads as "more than COUNT_CAP", which it is."""
    return count == COUNT_CAP + 1


def sort_key(queue: Queue, requested: str) -> str:
    """The requested sort if it is one of the allowed keys, else the queue's default."""
    return requested if requested.lstrip("-") in SORTS else DEFAULT_SORT[queue]


def _ordering(sort: str) -> list[str]:
    descending = sort.startswith("-")
    prefix = "-" if descending else ""
    return [prefix + column for column in SORTS[sort.lstrip("-")]]


def queue_cases(
    user: User,
    department: Department,
    queue: Queue,
    filters: QueueFilters | None = None,
    *,
    sort: str = "",
    today: dt.date | None = None,
) -> QuerySet[Case]:
    """The rows of a queue, sorted, with what the table shows (current unit, next due date)."""
    day = today or local_today()
    cases = (
        _queue_scope(user, department, queue, filters, day)
        .select_related("department", "handler_unit")
        .only(*LISTED)
        .annotate(current_unit=Coalesce(F("handler_unit_id"), F("department_id")))
    )
    ordering = _ordering(sort_key(queue, sort))
    if ordering[0].lstrip("-") == "next_due":
        # Cases without a running clock go last either way.
        column = F("next_due")
        first = (
            column.desc(nulls_last=True) if ordering[0][0] == "-" else column.asc(nulls_last=True)
        )
        return cases.order_by(first, *ordering[1:])
    return cases.order_by(*ordering)


def _queue_scope(
    user: User, department: Department, queue: Queue, filters: QueueFilters | None, day: dt.date
) -> QuerySet[Case]:
    """The cases of `queue` for `queue_cases`. To accept is held by the department itself: for
    staff over it, that alone says the case is visible and in the subtree, so the subtree's units
    are not restated (`department IN (...) AND department = ...`: once PostgreSQL plans the
    prepared statement without its values, it reads every case of the unit to check both)."""
    condition = queue_condition(queue, department, day)
    if queue == Queue.TO_ACCEPT and staff_over_department(user, department):
        return _filtered(Case.objects.filter(condition), filters or QueueFilters())
    in_parts = queue in DEADLINE_QUEUES and _is_small(department)
    # In hand, sorted by next due date: the subtree's held cases from `case_dept_status_due`
    # (as one OR with the handling unit, a city's page read every open case of the country).
    in_parts = in_parts or (queue == Queue.IN_HAND and units_under(department) is not None)
    if in_parts and staff_over_department(user, department):
        cases = _held_then_found(user, department, condition)
        return _filtered(cases, filters or QueueFilters())
    return subtree_cases(user, department, filters).filter(condition)


def _held_then_found(user: User, department: Department, condition: Q) -> QuerySet[Case]:
    """The cases of a small subtree the user is staff over meeting a deadline queue's
    `condition`: those held in the subtree, read by the (department, status, id) index with
    their clocks probed, and those handled there but held elsewhere or named there in an
    authority dispute (few, usually none), looked up first by their own indexes. Asked as one OR
    (`held_or_handled`), PostgreSQL reads every open case of the country (`open_case_holder`)
    to check their units."""
    held, *elsewhere = subtree_parts(user, department)
    found = [pk for part in elsewhere for pk in part.filter(condition).values_list("pk", flat=True)]
    if found:
        held = held | Case.objects.filter(pk__in=found)
    return held.filter(condition)


def counts_as_list(counts: Mapping[Queue, int]) -> list[tuple[Queue, int]]:
    return [(queue, counts[queue]) for queue in Queue]
