"""Who may administer which departments: a superuser everything, a department administrator
(membership role `dept_admin`) the subtree of each department where they hold that role.

The admin for departments uses this, and so does the admin for users and memberships.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from departments.models import Department, DepartmentQuerySet

DEPT_ADMIN_ROLE = "dept_admin"


def admin_subtree_paths(user: Any) -> list[str]:
    """The paths of the departments where `user` is a department administrator, leaving out any
    that lie inside another (an administrator of Zhejiang needs no separate Hangzhou entry)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    paths = sorted(
        {
            membership.department.path
            for membership in user.memberships.select_related("department")
            if DEPT_ADMIN_ROLE in (membership.roles or [])
        }
    )
    kept: list[str] = []
    for path in paths:
        if not any(path.startswith(outer) for outer in kept):
            kept.append(path)
    return kept


def departments_administered_by(user: Any) -> DepartmentQuerySet:
    """Every department `user` may administer (none for ordinary users)."""
    departments = Department.objects.all()
    if getattr(user, "is_superuser", False) and user.is_active:
        return departments
    paths = admin_subtree_paths(user)
    if not paths:
        return departments.none()
    within = Q()
    for path in paths:
        within |= Q(path__startswith=path)
    return departments.filter(within)


def can_administer(user: Any, department: Department) -> bool:
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    return any(department.path.startswith(path) for path in admin_subtree_paths(user))
