"""Who may see which case: decided here and nowhere else.

- a consumer sees the cases filed by or for their account;
- a business user sees the complaints against their business (never reports, never consultations);
- staff see the cases whose current department or handling unit lies in the subtree of a
  department they are a member of (by materialised path);
- everyone else sees nothing, and a case they may not see does not exist for them (404).
Every list, detail, export and count goes through `cases_visible_to` / `get_case_for`.
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import Membership, User
from cases.models import Case, Kind
from departments.models import NATIONAL_CODE, Department


class Viewer(StrEnum):
    CONSUMER = "consumer"
    BUSINESS = "business"
    STAFF = "staff"
    NONE = "none"


def staff_paths(user: User) -> list[str]:
    """Materialised paths of the departments the user is a member of (cached on the user)."""
    cached = getattr(user, "_staff_paths", None)
    if cached is None:
        cached = list(
            Membership.objects.filter(user=user).values_list("department__path", flat=True)
        )
        user._staff_paths = cached  # type: ignore[attr-defined]
    return cached


def _staff_filter(paths: list[str]) -> Q:
    """Cases held or handled by a unit in one of the subtrees. The subtree is first resolved to its
    unit codes (one indexed query on the path), so PostgreSQL combines the department, handling
    unit and consumer indexes (BitmapOr) instead of matching every case's path across two joins."""
    if not paths:
        return Q(pk__in=[])
    if f"{NATIONAL_CODE}/" in paths:
        return Q(pk__isnull=False)  # the national level covers the whole country
    in_subtree = Q()
    for path in paths:
        in_subtree |= Q(path__startswith=path)
    units = list(Department.objects.filter(in_subtree).values_list("code", flat=True))
    return Q(department_id__in=units) | Q(handler_unit_id__in=units)


def staff_condition(user: User) -> Q:
    """The cases `user` sees as staff (held or handled in one of their subtrees); matches nothing
    for a user without memberships. For filters that must answer staff and the public differently
    (which unit handles a case, internal clocks)."""
    return _staff_filter(staff_paths(user)) if user.is_authenticated else Q(pk__in=[])


def cases_visible_to(user: User) -> QuerySet[Case]:
    cases = Case.objects.all()
    if not user.is_authenticated:
        return cases.none()
    condition = Q(consumer=user)
    if user.business_id is not None:
        condition |= Q(respondent_id=user.business_id, kind=Kind.COMPLAINT)
    paths = staff_paths(user)
    if paths:
        condition |= _staff_filter(paths)
    return cases.filter(condition)


def get_case_for(user: User, number: str) -> Case:
    """The case if `user` may see it; Http404 otherwise (no existence leak)."""
    case = (
        cases_visible_to(user)
        .select_related("department", "handler_unit", "respondent")
        .filter(number=number)
        .first()
    )
    if case is None:
        raise Http404(number)
    return case


def memberships_over(user: User, case: Case) -> list[Membership]:
    """The user's memberships whose subtree holds the case (its department or handling unit)."""
    units = [case.department] + ([case.handler_unit] if case.handler_unit else [])
    return [
        m
        for m in Membership.objects.filter(user=user).select_related("department")
        if any(unit.path.startswith(m.department.path) for unit in units)
    ]


def viewer_of(user: User, case: Case) -> Viewer:
    """How the user relates to a case they can see: staff first, then party, then business."""
    if user.is_authenticated and memberships_over(user, case):
        return Viewer.STAFF
    if user.is_authenticated and case.consumer_id == user.pk:
        return Viewer.CONSUMER
    if (
        user.is_authenticated
        and case.kind == Kind.COMPLAINT
        and user.business_id is not None
        and case.respondent_id == user.business_id
    ):
        return Viewer.BUSINESS
    return Viewer.NONE


def handles_case(user: User, case: Case) -> bool:
    """Staff of the unit that holds or handles the case: they may see the parties' full contact
    details. Staff higher up see them masked."""
    units = {case.department_id, case.handler_unit_id} - {None}
    return Membership.objects.filter(user=user, department_id__in=units).exists()
