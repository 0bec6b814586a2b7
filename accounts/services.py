"""Writes on accounts: staff creation and memberships."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from accounts.models import Membership, Role, User
from departments.models import Department


class AccountError(ValueError):
    pass


def parse_roles(roles: Iterable[str]) -> list[str]:
    cleaned = [r.strip() for r in roles if r.strip()]
    unknown = sorted(set(cleaned) - set(Role.values))
    if unknown:
        raise AccountError(f"unknown role(s): {', '.join(unknown)}; use {', '.join(Role.values)}")
    if not cleaned:
        raise AccountError("at least one role is required")
    return sorted(set(cleaned), key=Role.values.index)


@transaction.atomic
def create_staff(
    *,
    username: str,
    password: str,
    department: Department,
    roles: Iterable[str],
    real_name: str = "",
) -> User:
    """Create (or update) a staff user and their membership of `department` with `roles`."""
    role_list = parse_roles(roles)
    user, _created = User.objects.get_or_create(username=username)
    user.set_password(password)
    if real_name:
        user.real_name = real_name
    user.save()
    Membership.objects.update_or_create(
        user=user, department=department, defaults={"roles": role_list}
    )
    return user
