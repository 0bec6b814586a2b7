"""The outbox: notifications are rows written in the transaction of the change that caused them.

A row is never lost with a rolled-back change, and never sent for a change that did not commit:
delivery (`notifications.tasks.deliver_pending`) is kicked once the transaction commits, and the
beat schedule runs it again for anything a kick missed (broker down, worker crash).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction

from accounts.models import User
from cases.models import Case, Deadline
from notifications.models import Channel, Notification

logger = logging.getLogger(__name__)


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
    common = {"case": case, "recipient": recipient_user, "subject": subject, "body": body}
    rows = [
        Notification(channel=channel, phone=phone, deadline=deadline, **common)
        for channel in channels
        if _usable(channel, phone=phone, recipient_user=recipient_user)
    ]
    if rows:
        Notification.objects.bulk_create(rows)
        transaction.on_commit(_kick_delivery)
    return rows


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
