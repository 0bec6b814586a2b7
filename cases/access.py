"""Who may see which case: decided here and nowhere else.

- a consumer sees the cases filed by or for their account;
- a business user sees the complaints against their business (never reports, never consultations);
- staff see the cases whose current department or handling unit lies in the subtree of a
  department they are a member of (by materialised path), and, while an authority dispute is
  open (管辖争议, o121 Art. 33), the cases whose holder named a department of that subtree as
  the competent one: that department must read the case to agree or refuse, and the common
  superior, above both, sees it already;
- everyone else sees nothing, and a case they may not see does not exist for them (404).
Every list, detail, export and count goes through `cases_visible_to` / `get_case_for`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from django.db.models import F, Q, QuerySet, Value
from django.db.models.lookups import Exact
from django.http import Http404

from accounts.memberships import memberships_of
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
        cached = [m.department.path for m in memberships_of(user)]
        user._staff_paths = cached  # type: ignore[attr-defined]
    return cached


def subtree_units(paths: Iterable[str]) -> list[str] | None:
    """The codes of the departments in the subtrees under `paths` (one indexed query on the
    path); None for the whole country, where a filter would only cost time."""
    paths = list(paths)
    if f"{NATIONAL_CODE}/" in paths:
        return None
    in_subtree = Q(pk__in=[])
    for path in paths:
        in_subtree |= Q(path__startswith=path)
    return list(Department.objects.filter(in_subtree).values_list("code", flat=True))


# The handling unit is the holding department (written as a bare lookup: negated, it stays a
# plain `<>` that matches the condition of the partial index `case_handled_elsewhere`).
HANDLER_IS_HOLDER: Exact = Exact(F("handler_unit_id"), F("department_id"))


def held_or_handled(units: list[str] | None) -> Q:
    """Cases whose current department or handling unit is one of `units`, or whose open
    authority dispute names one of them (None: every case). On the foreign keys, so PostgreSQL
    combines the (department, ...), (handler_unit, ...) and the small `case_disputed_with`
    indexes instead of matching every case's path across joins."""
    if units is None:
        return Q(pk__isnull=False)
    return Q(department_id__in=units) | Q(handler_unit_id__in=units) | Q(disputed_with_id__in=units)


def held_then_handled(units: list[str] | None) -> list[Q]:
    """`held_or_handled` as disjoint parts: held in `units`, then handled there but held
    elsewhere, then named in an open authority dispute while held and handled elsewhere.
    Counted part by part, each part is counted from one index without visiting the rows, which
    an OR across several columns cannot be. The second part restates that its handler is not
    its holder, so that it reads the small `case_handled_elsewhere` index; the third reads the
    small `case_disputed_with`."""
    if units is None:
        return [Q(pk__isnull=False)]
    held = Q(department_id__in=units)
    handled = Q(handler_unit_id__in=units)
    elsewhere = handled & ~Q(HANDLER_IS_HOLDER)
    disputed = Q(disputed_with_id__in=units)
    return [held, elsewhere & ~held, disputed & ~held & ~handled]


def _staff_filter(paths: list[str]) -> Q:
    """Cases held or handled by a unit in one of the subtrees."""
    if not paths:
        return Q(pk__in=[])
    return held_or_handled(subtree_units(paths))


def staff_condition(user: User) -> Q:
    """The cases `user` sees as staff (held, handled or named in an open authority dispute in
    one of their subtrees); matches nothing for a user without memberships. For filters that
    must answer staff and the public differently (which unit handles a case, internal clocks)."""
    return _staff_filter(staff_paths(user)) if user.is_authenticated else Q(pk__in=[])


def visible_parts(user: User) -> list[Q]:
    """The condition of `cases_visible_to` as disjoint parts: held in one of the user's
    subtrees, handled there while held elsewhere, named there in an open authority dispute
    (`held_then_handled`), then the user's own cases, then their business's, each without the
    cases of the parts before it. For `count_parts`."""
    if not user.is_authenticated:
        return []
    paths = staff_paths(user)
    parts = held_then_handled(subtree_units(paths)) if paths else []
    if paths and f"{NATIONAL_CODE}/" in paths:
        return parts  # every case already
    seen = Q(pk__in=[])
    for part in parts:
        seen |= part
    parts.append(Q(consumer=user) & ~seen)
    if user.business_id is not None:
        business = Q(respondent_id=user.business_id, kind=Kind.COMPLAINT)
        parts.append(business & ~seen & ~Q(consumer=user))
    return parts


def count_parts(parts: list[QuerySet[Case]], *, limit: int | None = None) -> int:
    """How many rows the disjoint querysets hold together, in one query (at most `limit`).

    Each part selects a constant, so PostgreSQL counts a part such as "held in these units"
    from an index without visiting the rows, which one OR across several columns cannot; with
    a limit, the later parts are not read once the earlier ones reach it."""
    if not parts:
        return 0
    if len(parts) == 1:
        return parts[0].order_by()[:limit].count()
    ones = [part.order_by().annotate(one=Value(1)).values_list("one") for part in parts]
    return ones[0].union(*ones[1:], all=True)[:limit].count()


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


def visible_among(user: User, cases: QuerySet[Case], department_code: str | None) -> QuerySet[Case]:
    """The `cases` (a list filtered by the department of `department_code`, if given) that
    `user` may see. Filtered to a department the user is staff over, every listed case is
    visible already (`listed_under` stays in their subtree), and the visibility condition is not
    restated: PostgreSQL, multiplying the two conditions' estimates, would sort the
    department's every case instead of walking the newest until a page is full."""
    paths = staff_paths(user) if user.is_authenticated and department_code else []
    if paths:
        found = Department.objects.filter(code=department_code).values_list("path", flat=True)
        department_path = found.first()
        if department_path and any(department_path.startswith(path) for path in paths):
            return cases
    return cases & cases_visible_to(user)


def staff_over_department(user: User, department: Department) -> bool:
    """Whether the department lies in the subtree of one of the user's memberships."""
    return user.is_authenticated and any(
        department.path.startswith(path) for path in staff_paths(user)
    )


def units_under(department: Department) -> list[str] | None:
    """`subtree_units` of one department, cached on it for the request."""
    if not hasattr(department, "_subtree_units"):
        department._subtree_units = subtree_units([department.path])  # type: ignore[attr-defined]
    units: list[str] | None = department._subtree_units  # type: ignore[attr-defined]
    return units


def listed_under(user: User, department: Department) -> Q:
    """The cases a department filter lists: held in the department's subtree, or handled there
    where `user` is staff (which unit handles a case is internal routing). On the unit codes, as
    `held_or_handled`, so the (department, status, id) index serves it instead of a join on
    every case's path."""
    units = units_under(department)
    if units is None:
        return Q(pk__isnull=False)
    return Q(department_id__in=units) | (Q(handler_unit_id__in=units) & staff_condition(user))


def subtree_parts(user: User, department: Department) -> list[QuerySet[Case]]:
    """`cases_in_subtree` as disjoint querysets (see `held_then_handled`), for counting.

    Within a subtree the user is staff over, every case of the subtree is visible to them, so
    the parts carry the subtree condition alone (an OR with the user's own cases would send
    PostgreSQL to the rows); anywhere else the one part is `cases_visible_to` narrowed."""
    units = units_under(department)
    if staff_over_department(user, department):
        return [Case.objects.filter(part) for part in held_then_handled(units)]
    return [cases_visible_to(user).filter(held_or_handled(units))]


def cases_in_subtree(user: User, department: Department) -> QuerySet[Case]:
    """The cases `user` may see that are held or handled in the department's subtree."""
    units = units_under(department)
    if staff_over_department(user, department):
        return Case.objects.filter(held_or_handled(units))
    return cases_visible_to(user).filter(held_or_handled(units))


def get_case_for(user: User, number: str) -> Case:
    """The case if `user` may see it; Http404 otherwise (no existence leak)."""
    case = (
        cases_visible_to(user)
        .select_related("department", "handler_unit", "respondent", "disputed_with")
        .filter(number=number)
        .first()
    )
    if case is None:
        raise Http404(number)
    return case


def case_units(case: Case) -> list[Department]:
    """The units through which staff see a case: its department, its handling unit, and the
    department named in its open authority dispute."""
    units = [case.department]
    if case.handler_unit_id is not None and case.handler_unit is not None:
        units.append(case.handler_unit)
    if case.disputed_with_id is not None and case.disputed_with is not None:
        units.append(case.disputed_with)
    return units


def memberships_over(user: User, case: Case) -> list[Membership]:
    """The user's memberships whose subtree holds the case (`case_units`)."""
    units = case_units(case)
    return [
        m
        for m in memberships_of(user)
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


def may_see_parties(user: User, case: Case, viewer: Viewer) -> bool:
    """A complaint's co-complainants and agent, and the power of attorney among its files
    (`parties`): the filing consumer and the staff over the unit holding or handling the case
    see them; the business complained about never does (o121 Art. 37's care for the people who
    come forward). Nor does a department that sees the case only because an open authority
    dispute names it: it reads the case to say whether it is competent, which turns on the
    business and the facts, not on who else complains or through whom."""
    if user.is_authenticated and case.consumer_id == user.pk:
        return True
    return viewer == Viewer.STAFF and over_holder_or_handler(user, case)


def over_holder_or_handler(user: User, case: Case) -> bool:
    """Staff whose subtree holds or handles the case, as against those who see it only because
    an open authority dispute names their department (`case_units`)."""
    units = [case.department] + ([case.handler_unit] if case.handler_unit_id else [])
    return any(
        unit is not None and unit.path.startswith(m.department.path)
        for m in memberships_of(user)
        for unit in units
    )


def handles_case(user: User, case: Case) -> bool:
    """Staff of the unit that holds or handles the case: they may see the parties' full contact
    details. Staff higher up see them masked."""
    units = {case.department_id, case.handler_unit_id} - {None}
    return any(m.department_id in units for m in memberships_of(user))
