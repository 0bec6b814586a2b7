"""A user's memberships, read at most once per request.

Intake (is this a hotline agent?), the case's viewer (staff over it?) and the workflow (which
actions may this user take?) all ask in one request. Every request loads its user afresh (bearer
token or session), so the answer is kept on the user object: a change of memberships shows from
the next request on.
"""

from __future__ import annotations

from accounts.models import Membership, User

_CACHE = "_memberships_cache"


def memberships_of(user: User) -> list[Membership]:
    """The user's memberships with their departments, in department order."""
    cached: list[Membership] | None = getattr(user, _CACHE, None)
    if cached is None:
        cached = list(Membership.objects.filter(user=user).select_related("department"))
        setattr(user, _CACHE, cached)
    return cached


def note_no_memberships(user: User) -> None:
    """Record that `user` holds none, learnt by a query that read the user anyway (token auth)."""
    setattr(user, _CACHE, [])
