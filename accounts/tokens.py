"""API bearer tokens: random, shown once, stored as SHA-256."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils import timezone

from accounts.memberships import note_no_memberships
from accounts.models import ApiToken, User

# `last_used_at` is written at most this often: not one UPDATE per request.
LAST_USED_EVERY = dt.timedelta(minutes=5)

# Every API request runs this, so it is written out: the ORM spends about three times as long
# building the query with its join as the database takes to run it. It also says whether the
# user holds any membership; most callers are consumers, who hold none, and then nothing in the
# request has to ask again (accounts.memberships).
_USER_BY_KEY_HASH = """
    SELECT u.*, t.id AS token_pk,
        (COALESCE(t.last_used_at, t.created_at) < %s OR t.created_at < %s) AS token_expired,
        (t.last_used_at IS NULL OR t.last_used_at < %s) AS token_use_due,
        EXISTS (SELECT 1 FROM accounts_membership m WHERE m.user_id = u.id) AS holds_membership
    FROM accounts_user u JOIN accounts_apitoken t ON t.user_id = u.id
    WHERE t.key_hash = %s AND u.is_active
"""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(*, user: User) -> str:
    token = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=_digest(token))
    return token


def idle_limit() -> dt.timedelta:
    """A token unused for this long stops working (settings.API_TOKEN_IDLE_DAYS)."""
    return dt.timedelta(days=getattr(settings, "API_TOKEN_IDLE_DAYS", 30))


def lifetime() -> dt.timedelta:
    """A token stops working this long after it was issued, however often it is used
    (settings.API_TOKEN_MAX_DAYS): a leaked token does not live for ever."""
    return dt.timedelta(days=getattr(settings, "API_TOKEN_MAX_DAYS", 180))


def user_for_token(token: str) -> User | None:
    """The active user the token belongs to, in one query; None for an unknown token, and for
    an idle or expired one, which is deleted."""
    now = timezone.now()
    as_stored = connections[User.objects.db].ops.adapt_datetimefield_value
    params = [
        as_stored(now - idle_limit()),
        as_stored(now - lifetime()),
        as_stored(now - LAST_USED_EVERY),
        _digest(token),
    ]
    user = next(iter(User.objects.raw(_USER_BY_KEY_HASH, params)), None)
    if user is None:
        return None
    columns: Any = user  # the query's own columns ride on the user
    if columns.token_expired:
        ApiToken.objects.filter(pk=columns.token_pk).delete()
        return None
    if columns.token_use_due:
        ApiToken.objects.filter(pk=columns.token_pk).update(last_used_at=now)
    if not columns.holds_membership:
        note_no_memberships(user)
    return user


def revoke_token(token: str) -> bool:
    """Sign an app out: the token stops working at once."""
    deleted, _ = ApiToken.objects.filter(key_hash=_digest(token)).delete()
    return deleted > 0
