"""API bearer tokens: random, shown once, stored as SHA-256."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models.expressions import Col
from django.utils import timezone

from accounts.memberships import note_no_memberships
from accounts.models import ApiToken, User

# `last_used_at` is written at most this often: not one UPDATE per request.
LAST_USED_EVERY = dt.timedelta(minutes=5)

# Every API request runs this, so it is written out: the ORM spends about three times as long
# building the query with its join as the database takes to run it. It also says whether the
# user holds any membership; most callers are consumers, who hold none, and then nothing in the
# request has to ask again (accounts.memberships). `{user}` is the user's columns.
_USER_BY_KEY_HASH = """
    SELECT {user}, t.id AS token_pk,
        (COALESCE(t.last_used_at, t.created_at) < %s OR t.created_at < %s) AS token_expired,
        (t.last_used_at IS NULL OR t.last_used_at < %s) AS token_use_due,
        EXISTS (SELECT 1 FROM accounts_membership m WHERE m.user_id = u.id) AS holds_membership
    FROM accounts_user u JOIN accounts_apitoken t ON t.user_id = u.id
    WHERE t.key_hash = %s AND u.is_active
"""

_TOKEN_USED = "UPDATE accounts_apitoken SET last_used_at = %s WHERE id = %s"  # noqa: S105


@dataclass(frozen=True)
class _UserRows:
    """How to read a user from `_USER_BY_KEY_HASH` on one database, worked out once: the SQL,
    the fields and each field's converters (what the ORM applies to a column it reads)."""

    sql: str
    names: list[str]
    converters: list[tuple[Col, list[Any]]]

    @classmethod
    @cache
    def on(cls, alias: str) -> _UserRows:
        connection = connections[alias]
        fields = User._meta.concrete_fields
        columns = [field.get_col("u") for field in fields]
        user = ", ".join(f"u.{connection.ops.quote_name(field.column)}" for field in fields)
        return cls(
            sql=_USER_BY_KEY_HASH.format(user=user),
            names=[field.attname for field in fields],
            converters=[
                (col, connection.ops.get_db_converters(col) + col.get_db_converters(connection))
                for col in columns
            ],
        )

    def user(self, alias: str, row: Sequence[Any]) -> User:
        connection = connections[alias]
        values = list(row[: len(self.names)])
        for index, (col, converters) in enumerate(self.converters):
            for convert in converters:
                values[index] = convert(values[index], col, connection)
        return User.from_db(alias, self.names, values)


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
    alias = User.objects.db
    as_stored = connections[alias].ops.adapt_datetimefield_value
    params = [
        as_stored(now - idle_limit()),
        as_stored(now - lifetime()),
        as_stored(now - LAST_USED_EVERY),
        _digest(token),
    ]
    reading = _UserRows.on(alias)
    with connections[alias].cursor() as cursor:
        cursor.execute(reading.sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    user = reading.user(alias, row)
    token_pk, expired, use_due, holds_membership = row[len(reading.names) :]
    if expired:
        ApiToken.objects.filter(pk=token_pk).delete()
        return None
    if use_due:
        with connections[alias].cursor() as cursor:
            cursor.execute(_TOKEN_USED, [as_stored(now), token_pk])
    if not holds_membership:
        note_no_memberships(user)
    return user


def revoke_token(token: str) -> bool:
    """Sign an app out: the token stops working at once."""
    deleted, _ = ApiToken.objects.filter(key_hash=_digest(token)).delete()
    return deleted > 0
