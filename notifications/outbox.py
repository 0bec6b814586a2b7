"""The outbox: notifications are rows written in the transaction of the change that caused them.

A row is never lost with a rolled-back change, and never sent for a change that did not commit:
delivery (`notifications.tasks.deliver_pending`) is kicked once the transaction commits, and the
beat schedule runs it again for anything a kick missed (broker down, worker crash). A batch job
that commits many small transactions (the deadline sweep) kicks once at its end (`one_kick`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import transaction

from accounts.models import User
from cases.models import Case, Deadline
from notifications.models import Channel, Notification

logger = logging.getLogger(__name__)

# Rows per INSERT statement when many are written at once.
BULK_SIZE = 1000


@dataclass
class _Deferred:
    """Inside `one_kick()`: whether a transaction of the block wrote rows."""

    wrote: bool = False


_deferred: ContextVar[_Deferred | None] = ContextVar("outbox_deferred_kick", default=None)


def queue(
    case: Case | None,
    *,
    recipient_user: User | None = None,
    phone: str = "",
    subject: str,
    body: str,
    channels: Iterable[str] = (Channel.SMS, Channel.INAPP),
    deadline: Deadline | None = None,
) -> list[Notification]:
    """Write one row per usable channel: SMS needs a phone, in-app a user account, e-mail a user
    account with an address (read again at delivery, so a corrected address is used)."""
    return queue_all(
        messages(
            case,
            recipient_user=recipient_user,
            phone=phone,
            subject=subject,
            body=body,
            channels=channels,
            deadline=deadline,
        )
    )


def messages(
    case: Case | None,
    *,
    recipient_user: User | None = None,
    phone: str = "",
    subject: str,
    body: str,
    channels: Iterable[str] = (Channel.SMS, Channel.INAPP),
    deadline: Deadline | None = None,
) -> list[Notification]:
    """The rows `queue` would write, unsaved, for a caller that writes many at once."""
    common = {"case": case, "recipient": recipient_user, "subject": subject, "body": body}
    return [
        Notification(channel=channel, phone=phone, deadline=deadline, **common)
        for channel in channels
        if _usable(channel, phone=phone, recipient_user=recipient_user)
    ]


def queue_all(rows: list[Notification]) -> list[Notification]:
    """Write rows (from `messages`) in bulk, BULK_SIZE a statement, and kick delivery once the
    transaction commits."""
    if rows:
        Notification.objects.bulk_create(rows, batch_size=BULK_SIZE)
        _kick_on_commit()
    return rows


@contextmanager
def one_kick() -> Iterator[None]:
    """Within this block, transactions that write rows do not each kick delivery: one kick
    follows the block (for a sweep that commits thousands of small transactions)."""
    if _deferred.get() is not None:
        yield
        return
    block = _Deferred()
    token = _deferred.set(block)
    try:
        yield
    finally:
        _deferred.reset(token)
        if block.wrote:
            transaction.on_commit(_kick_delivery)


def _kick_on_commit() -> None:
    block = _deferred.get()
    if block is None:
        transaction.on_commit(_kick_delivery)
    else:
        block.wrote = True


def _usable(channel: str, *, phone: str, recipient_user: User | None) -> bool:
    if channel == Channel.SMS:
        return bool(phone)
    if channel == Channel.INAPP:
        return recipient_user is not None
    if channel == Channel.EMAIL:
        return recipient_user is not None and bool(recipient_user.email)
    return False


def _kick_delivery() -> None:
    """Ask a worker to deliver now; if the broker is unreachable the beat run delivers later,
    and the committed change must not fail because of it."""
    from notifications.tasks import deliver_pending

    try:
        deliver_pending.delay()
    except Exception:
        logger.warning("could not queue notification delivery; beat will retry", exc_info=True)
