"""Which accounts a department administrator may manage: decided here and nowhere else.

A staff user holding the `dept_admin` role in a membership administers that department's subtree,
by materialised path. The subtrees come from `departments.access`, which the department admin
uses too, so both admins agree. They manage the staff whose memberships all lie inside it: a
national officer who also sits in a province is out of a provincial admin's reach, and so are
consumers (no membership at all) and superusers. Superusers manage everyone.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import Membership, User
from departments.access import admin_subtree_paths, departments_administered_by
from departments.models import Department


def dept_admin_paths(user: User) -> list[str]:
    """Paths of the departments `user` administers, outermost only (a path inside another adds
    nothing); none for an inactive user."""
    return admin_subtree_paths(user)


def _under(paths: list[str], field: str) -> Q:
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(**{f"{field}__startswith": path})
    return condition


def departments_managed_by(user: User) -> QuerySet[Department]:
    return departments_administered_by(user)


def users_managed_by(user: User) -> QuerySet[User]:
    if user.is_superuser and user.is_active:
        return User.objects.all()
    paths = dept_admin_paths(user)
    inside = Membership.objects.filter(_under(paths, "department__path"))
    outside = Membership.objects.exclude(_under(paths, "department__path"))
    return (
        User.objects.filter(pk__in=inside.values("user_id"))
        .exclude(pk__in=outside.values("user_id"))
        .exclude(is_superuser=True)
    )


def memberships_managed_by(user: User) -> QuerySet[Membership]:
    if user.is_superuser and user.is_active:
        return Membership.objects.all()
    return Membership.objects.filter(user__in=users_managed_by(user))
