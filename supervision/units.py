"""Who supervises whom: the unit holding a case, the 12315 work body above it, and the staff of a
unit who receive its supervision alerts."""

from __future__ import annotations

from collections.abc import Iterable

from accounts.models import Membership, Role, User
from cases.models import Case
from departments.models import Department

# The roles that work a unit's cases: they receive its orders and due-soon alerts and may answer.
RECEIVING_ROLES = (Role.INTAKE, Role.HANDLER, Role.HEAD, Role.SUPERVISOR)


def holding_unit(case: Case) -> Department:
    """The unit the case sits with: its handling unit once accepted, else its department."""
    return case.handler_unit or case.department


def superior_of(unit: Department) -> Department | None:
    """The 12315 work body one level up (a station's county, a county's city...); None above
    the national body."""
    return unit.parent


def receiving_staff(unit: Department) -> list[User]:
    """Active staff of `unit` holding one of the receiving roles, each once."""
    return receiving_staff_of([unit.pk]).get(unit.pk, [])


def receiving_staff_of(units: Iterable[str]) -> dict[str, list[User]]:
    """`receiving_staff` of several units (by code) in one query; a unit without any is absent."""
    memberships = Membership.objects.filter(
        department_id__in=set(units), user__is_active=True
    ).select_related("user")
    staff: dict[str, list[User]] = {}
    for m in memberships:
        if any(m.has_role(role) for role in RECEIVING_ROLES):
            staff.setdefault(m.department_id, []).append(m.user)
    return staff


def is_receiving_staff(user: User, unit: Department) -> bool:
    """Whether `user` works the cases of `unit` (and so may answer its orders)."""
    if not user.is_authenticated:
        return False
    membership = Membership.objects.filter(user=user, department=unit).first()
    return membership is not None and any(membership.has_role(r) for r in RECEIVING_ROLES)
