"""What the workbench reads: the active membership, the queues, their counts and their rows.

Every query starts from `cases.access.cases_in_subtree` (the cases the user may see, held or
handled in the subtree of the membership they work in), so the workbench never shows more than
the access rules allow. Each queue is counted by one bounded query (`count_parts`: held, then
handled elsewhere, each from an index; no further than COUNT_CAP + 1, shown as "10,000+"); the
rows of a page come from one more (`select_related`, the next due date as a correlated
subquery), so a county's page costs about the same at a thousand cases as at a million.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import reduce
from operator import or_

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, User
from cases.access import cases_in_subtree, count_parts, subtree_parts, units_under
from cases.deadlines import today as local_today
from cases.models import Case, Deadline, Status
from cases.rules import SHANGHAI
from departments.models import Department
from workdays.calendar import add_working_days

PAGE_SIZE = 50
# Counting a queue stops here: past it the number is O(rows) to get and of no use to read.
COUNT_CAP = 10_000
# Up to this many units (a county with its stations, a city) the deadline queues probe each open
# case's clocks; above it (a province) they start from the country's late clocks.
SMALL_SUBTREE_UNITS = 50
# Long texts the table does not show: left in the table, not sorted along with the rows.
UNLISTED = ("facts", "demand", "answer", "rating_comment", "party_address", "platform_address")
DUE_SOON_WORKING_DAYS = 2  # WORKFLOW.md, "Supervision": two or fewer working days left
IN_HAND = (Status.ACCEPTED, Status.MEDIATING, Status.VERIFYING)
OPEN = (Status.SUBMITTED, *IN_HAND)


class Queue(StrEnum):
    TO_ACCEPT = "to-accept"
    IN_HAND = "in-hand"
    DUE_SOON = "due-soon"
    OVERDUE = "overdue"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return str(QUEUE_LABELS[self])


QUEUE_LABELS = {
    Queue.TO_ACCEPT: _("待受理"),
    Queue.IN_HAND: _("办理中"),
    Queue.DUE_SOON: _("即将到期"),
    Queue.OVERDUE: _("已超期"),
    Queue.CLOSED: _("已办结"),
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
DEFAULT_SORT = {
    Queue.TO_ACCEPT: "received_at",  # first come, first served
    Queue.IN_HAND: "next_due",
    Queue.DUE_SOON: "next_due",
    Queue.OVERDUE: "next_due",
    Queue.CLOSED: "-received_at",
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
    flagged overdue (`open_deadline_due`, `open_deadline_overdue`)."""
    late = [Q(due__lt=today, paused_since__isnull=True), Q(overdue=True)]
    return _with_clocks(late, small=small)


def _has_due_soon_clock(today: dt.date, *, small: bool) -> Q:
    """An open clock due within two working days, or flagged due soon, and not past due yet
    (`open_deadline_due`, `open_deadline_due_soon`): two bounded ranges, as `due >= today`
    alone would read every future clock."""
    limit = add_working_days(today, DUE_SOON_WORKING_DAYS)
    running = Q(due__gte=today, due__lte=limit, paused_since__isnull=True, overdue=False)
    # "after yesterday", not "from today": PostgreSQL would take a bound common to both sides
    # out of the OR and read every future clock by it.
    flagged = Q(due_soon=True, due__gt=today - dt.timedelta(days=1), overdue=False)
    return _with_clocks([running, flagged], small=small)


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
    """How many cases each queue holds, counted up to COUNT_CAP + 1 (more shows as "10,000+"):
    one bounded query per queue, each with a plan of its own (an index for the status queues,
    the open clocks for the deadline ones) instead of one pass over every case of the subtree."""
    day = today or local_today()
    parts = [_filtered(part, filters or QueueFilters()) for part in subtree_parts(user, department)]
    return {
        queue: count_parts(
            [part.filter(queue_condition(queue, department, day)) for part in parts],
            limit=COUNT_CAP + 1,
        )
        for queue in Queue
    }


def is_capped(count: int) -> bool:
    """Whether a count from `queue_counts` stopped at the cap (the queue holds more)."""
    return count > COUNT_CAP


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
    next_due = _open_deadlines().filter(case=OuterRef("pk")).order_by("due").values("due")[:1]
    cases = (
        subtree_cases(user, department, filters)
        .filter(queue_condition(queue, department, day))
        .select_related("department", "handler_unit")
        .defer(*UNLISTED)
        .annotate(
            next_due=Subquery(next_due),
            current_unit=Coalesce(F("handler_unit_id"), F("department_id")),
        )
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


def counts_as_list(counts: Mapping[Queue, int]) -> list[tuple[Queue, int]]:
    return [(queue, counts[queue]) for queue in Queue]
