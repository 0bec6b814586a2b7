"""Idempotent case creation: a retried or double-clicked submission files one case, not two.

A client sends a key of its choosing (`Idempotency-Key` header; the web form's hidden token). The
first request with that key records the key, the fingerprint of its body and the case it created,
in the same transaction as the case. A retry by the same user with the same key:

- and the same body gets the first case back;
- and a different body is refused (`IdempotencyMismatch`): the key was reused for something else.

Two requests racing with one key both try to record it; the unique constraint lets one win, the
loser's whole transaction (its case, events, clocks) rolls back and it answers with the winner.
`cases.intake.submit_case` drives this; the web form only needs `issue_form_token`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from django.utils.translation import gettext as _

from accounts.models import User
from cases.models import Case, IdempotencyKey

MAX_KEY_LENGTH = 100


class IdempotencyMismatch(Exception):
    """The key was used before with a different request body."""

    def __init__(self, case: Case) -> None:
        super().__init__(_("该幂等键已用于内容不同的另一次提交。"))
        self.case = case


class InvalidKey(ValueError):
    pass


def issue_form_token() -> str:
    """A fresh key for a web form's hidden field: a double submit of the form reuses it."""
    return secrets.token_urlsafe(24)


def clean_key(key: str | None) -> str | None:
    """None when absent; the key when usable; InvalidKey when empty or too long."""
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(_("幂等键应为1至%(max)d个字符。") % {"max": MAX_KEY_LENGTH})
    return key


def fingerprint(*, kind: str, payload: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of what was asked for: key order and spacing don't count."""
    canonical = json.dumps(
        {"kind": kind, "payload": payload},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay(*, user: User, key: str, request_hash: str) -> Case | None:
    """The case a previous request with this key created, or None if the key is new."""
    row = IdempotencyKey.objects.select_related("case").filter(user=user, key=key).first()
    if row is None:
        return None
    if row.request_hash != request_hash:
        raise IdempotencyMismatch(row.case)
    return row.case


def remember(*, user: User, key: str, request_hash: str, case: Case) -> None:
    """Record the key with its case; IntegrityError when a concurrent request recorded it first."""
    IdempotencyKey.objects.create(user=user, key=key, request_hash=request_hash, case=case)
