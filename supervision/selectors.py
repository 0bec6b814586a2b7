"""Which orders and departments a staff member may see: decided here and nowhere else.

- the order list shows orders addressed to or issued by any unit of the caller's subtrees;
- the inbox shows orders addressed to the very units the caller works in, the outbox orders
  issued by them; only the receiving staff of the unit addressed may answer;
- monitoring covers a department inside one of the caller's subtrees; anything else is 404
  (no existence leak), and a caller with no membership at all is not staff (403).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.memberships import memberships_of
from accounts.models import Membership, User
from cases.access import staff_paths
from departments.models import Department
from supervision.models import SupervisionOrder
from supervision.units import RECEIVING_ROLES


def is_staff(user: User) -> bool:
    return user.is_authenticated and bool(staff_paths(user))


def require_staff(user: User) -> None:
    if not is_staff(user):
        raise PermissionDenied


def _with_parties(orders: QuerySet[SupervisionOrder]) -> QuerySet[SupervisionOrder]:
    return orders.select_related("case", "from_department", "to_department", "responded_by")


def orders_visible_to(user: User) -> QuerySet[SupervisionOrder]:
    condition = Q(pk__in=[])
    for path in staff_paths(user) if user.is_authenticated else []:
        condition |= Q(to_department__path__startswith=path)
        condition |= Q(from_department__path__startswith=path)
    return _with_parties(SupervisionOrder.objects.filter(condition))


def _memberships(user: User) -> list[Membership]:
    return memberships_of(user) if user.is_authenticated else []


def receiving_units(user: User) -> list[str]:
    """Codes of the units whose orders `user` receives and may answer."""
    return [
        m.department_id
        for m in _memberships(user)
        if any(m.has_role(role) for role in RECEIVING_ROLES)
    ]


def inbox(user: User) -> QuerySet[SupervisionOrder]:
    return _with_parties(SupervisionOrder.objects.filter(to_department__in=receiving_units(user)))


def outbox(user: User) -> QuerySet[SupervisionOrder]:
    units = [m.department_id for m in _memberships(user)]
    return _with_parties(SupervisionOrder.objects.filter(from_department__in=units))


def get_order_to_answer(user: User, order_id: int) -> SupervisionOrder:
    """An order addressed to a unit `user` answers for; Http404 otherwise."""
    order = inbox(user).filter(pk=order_id).first()
    if order is None:
        raise Http404(order_id)
    return order


def default_department(user: User) -> Department:
    """The caller's own department for monitoring: the highest one they are a member of."""
    require_staff(user)
    departments = [m.department for m in _memberships(user)]
    return min(departments, key=lambda d: (len(d.path), d.code))


def covered_department(user: User, code: str | None) -> Department:
    """The department to monitor: `code` if it lies in one of the caller's subtrees (else 404),
    or their own department when no code is given."""
    require_staff(user)
    if not code:
        return default_department(user)
    department = Department.objects.filter(code=code).first()
    if department is None or not any(department.path.startswith(p) for p in staff_paths(user)):
        raise Http404(code)
    return department


def breadcrumb(user: User, department: Department) -> list[Department]:
    """The departments from the caller's highest covering one down to `department`."""
    covering = [path for path in staff_paths(user) if department.path.startswith(path)]
    top = min(covering, key=len) if covering else department.path
    codes = department.ancestor_codes()[top.count("/") - 1 :]
    by_code = Department.objects.in_bulk(codes)
    return [by_code[code] for code in codes if code in by_code]
