"""What the workbench reads: the active membership, the queues, their counts and their rows.

Every query starts from `cases.access.cases_visible_to(user)` and is narrowed to the subtree of
the membership the user is working in, so the workbench can never show more than the access
rules allow. Counts for all queues come from one query (conditional aggregation); the rows of a
page from one more (`select_related`, the next due date as a correlated subquery), so the page
costs the same at a thousand cases as at a million.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, User
from cases.access import cases_visible_to
from cases.deadlines import today as local_today
from cases.models import Case, Deadline, Status
from cases.rules import SHANGHAI
from departments.models import Department
from workdays.calendar import add_working_days

PAGE_SIZE = 50
SUBTREE_CODES_LIMIT = 500
# Long texts the table does not show: left in the table, not sorted along with the rows.
UNLISTED = ("facts", "demand", "answer", "rating_comment", "party_address", "platform_address")
DUE_SOON_WORKING_DAYS = 2  # WORKFLOW.md, "Supervision": two or fewer working days left
IN_HAND = (Status.ACCEPTED, Status.MEDIATING, Status.VERIFYING)


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


def _has_overdue_clock(today: dt.date) -> Exists:
    """An open clock past its due date (a paused clock is not running), or one the sweep has
    flagged overdue. Correlated, so the database probes a case's few clocks by index or hashes
    them all, whichever is cheaper for the subtree at hand."""
    late = Q(due__lt=today, paused_since__isnull=True) | Q(overdue=True)
    return Exists(_open_deadlines().filter(late, case=OuterRef("pk")))


def _has_due_soon_clock(today: dt.date) -> Exists:
    """An open clock due within two working days, or flagged due soon, and not past due yet."""
    limit = add_working_days(today, DUE_SOON_WORKING_DAYS)
    soon = Q(due__lte=limit, paused_since__isnull=True) | Q(due_soon=True)
    return Exists(
        _open_deadlines().filter(soon, due__gte=today, overdue=False, case=OuterRef("pk"))
    )


def queue_condition(queue: Queue, department: Department, today: dt.date) -> Q:
    """The condition a case in the department's subtree meets to be in `queue`."""
    if queue == Queue.TO_ACCEPT:
        return Q(status=Status.SUBMITTED, department=department)
    if queue == Queue.IN_HAND:
        return Q(status__in=IN_HAND)
    if queue == Queue.DUE_SOON:
        return ~Q(status=Status.CLOSED) & Q(_has_due_soon_clock(today))
    if queue == Queue.OVERDUE:
        return ~Q(status=Status.CLOSED) & Q(_has_overdue_clock(today))
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


def _in_subtree(department: Department) -> Q:
    """Cases held or handled in the department's subtree. For a small subtree (a county and its
    stations, a city) as lists of codes, so the (department, status) and (handler_unit, status)
    indexes find them; for a big one by path prefix, as it is most of the table anyway."""
    codes = list(
        Department.objects.subtree_of(department).values_list("code", flat=True)[
            : SUBTREE_CODES_LIMIT + 1
        ]
    )
    if len(codes) <= SUBTREE_CODES_LIMIT:
        return Q(department_id__in=codes) | Q(handler_unit_id__in=codes)
    return Q(department__path__startswith=department.path) | Q(
        handler_unit__path__startswith=department.path
    )


def subtree_cases(
    user: User, department: Department, filters: QueueFilters | None = None
) -> QuerySet[Case]:
    """The cases the user may see that are held or handled in the department's subtree."""
    cases = cases_visible_to(user).filter(_in_subtree(department))
    return _filtered(cases, filters or QueueFilters())


def queue_counts(
    user: User,
    department: Department,
    filters: QueueFilters | None = None,
    *,
    today: dt.date | None = None,
) -> dict[Queue, int]:
    """How many cases each queue holds, in a single query."""
    day = today or local_today()
    totals = subtree_cases(user, department, filters).aggregate(
        **{
            queue.name: Count("pk", filter=queue_condition(queue, department, day))
            for queue in Queue
        }
    )
    return {queue: totals[queue.name] or 0 for queue in Queue}


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
