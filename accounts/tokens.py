"""API bearer tokens: random, shown once, stored as SHA-256."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.utils import timezone

from accounts.models import ApiToken, User


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(*, user: User) -> str:
    token = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=_digest(token))
    return token


def idle_limit() -> dt.timedelta:
    """A token unused for this long stops working (settings.API_TOKEN_IDLE_DAYS)."""
    return dt.timedelta(days=getattr(settings, "API_TOKEN_IDLE_DAYS", 30))


def user_for_token(token: str) -> User | None:
    row = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_digest(token), user__is_active=True)
        .first()
    )
    if row is None:
        return None
    now = timezone.now()
    if now - (row.last_used_at or row.created_at) > idle_limit():
        row.delete()
        return None
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 300:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


def revoke_token(token: str) -> bool:
    """Sign an app out: the token stops working at once."""
    deleted, _ = ApiToken.objects.filter(key_hash=_digest(token)).delete()
    return deleted > 0
