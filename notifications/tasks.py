"""Delivering the outbox: at least once, each row claimed by one worker at a time.

A worker claims a row with a conditional update (a lease in `not_before`), so two workers, or a
task run twice, never send the same row at once; a worker that dies mid-send leaves a lease that
expires and the row is tried again. A failure records `last_error` and backs off; a row is never
deleted, and after MAX_ATTEMPTS it waits for an admin (attempts reset) with its error on it.

Channels: SMS through `accounts.sms` (`SMS_BACKEND`), e-mail through Django's mail framework
(`EMAIL_BACKEND`, from `DEFAULT_FROM_EMAIL`) to the recipient's current address; in-app messages
are read in the portal, so delivering one only marks it sent.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from celery import shared_task
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from cases.deadlines import settle_next_due_of
from cases.models import Case, Deadline
from notifications.models import Channel, Notification
from supervision import rollups

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = dt.timedelta(minutes=5)
BATCH = 500


@shared_task(ignore_result=True)
def deliver_pending(limit: int = BATCH) -> int:
    """Deliver every due row (up to `limit`); returns how many were delivered."""
    delivered = 0
    for pk in list(_due(timezone.now()).order_by("id").values_list("pk", flat=True)[:limit]):
        delivered += deliver_one(pk)
    return delivered


def _due(now: dt.datetime) -> QuerySet[Notification]:
    return Notification.objects.filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS).filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now)
    )


def deliver_one(pk: int) -> bool:
    """Claim, send and mark one row; False when another worker has it or sending failed."""
    now = timezone.now()
    claimed = _due(now).filter(pk=pk).update(not_before=now + LEASE, attempts=F("attempts") + 1)
    if not claimed:
        return False
    row = Notification.objects.select_related("recipient").get(pk=pk)
    try:
        _send(row)
    except Exception as exc:
        retry_at = timezone.now() + backoff(row.attempts)
        Notification.objects.filter(pk=pk).update(last_error=str(exc)[:2000], not_before=retry_at)
        return False
    Notification.objects.filter(pk=pk, sent_at__isnull=True).update(
        sent_at=timezone.now(), not_before=None, last_error=""
    )
    _meet_notice_clock(row.deadline_id)
    return True


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4 ... minutes, at most an hour."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def _send(row: Notification) -> None:
    sender = SENDERS.get(row.channel)
    if sender is None:
        raise ValueError(f"no delivery for channel {row.channel!r}")
    sender(row)


def _send_sms(row: Notification) -> None:
    from accounts.sms import send_sms

    send_sms(phone=row.phone, text=row.body)


def _send_email(row: Notification) -> None:
    """To the address on the account now; an account that lost its address fails the row (its
    error shows in the admin) rather than marking a message sent that nobody received."""
    address = row.recipient.email if row.recipient is not None else ""
    if not address:
        raise ValueError("the recipient has no e-mail address")
    subject = " ".join(row.subject.splitlines())  # a header: no line breaks
    if not send_mail(subject, row.body, None, [address], fail_silently=False):
        raise ValueError("the e-mail backend sent nothing")
    logger.info("e-mail notification %s sent", row.pk)


def _read_in_the_portal(row: Notification) -> None:
    """In-app messages are shown by the portal: nothing to hand over."""


SENDERS: dict[str, Callable[[Notification], None]] = {
    Channel.SMS: _send_sms,
    Channel.EMAIL: _send_email,
    Channel.INAPP: _read_in_the_portal,
}


def _meet_notice_clock(deadline_id: int | None) -> None:
    """A notice clock (e.g. telling the parties of a termination) is met once all its messages
    are out. Each row's sent mark commits before this check, so the last one to finish sees
    every other row sent."""
    if deadline_id is None:
        return
    if Notification.objects.filter(deadline_id=deadline_id, sent_at__isnull=True).exists():
        return
    with transaction.atomic():
        # The case row first, as `perform` takes it before the clocks (its snapshot locks them):
        # the clock first would deadlock with an action on the case, now that its next due date
        # is written here too.
        case_id = _lock_case_of_clock(deadline_id)
        if case_id is None:
            return
        with rollups.counting_marks([case_id]):  # its marks come off: the case's flags change
            met = Deadline.objects.filter(pk=deadline_id, met_at__isnull=True, cancelled=False)
            if met.update(met_at=timezone.now(), due_soon=False):
                rollups.clocks_met([deadline_id])  # the clock now counts as decided
                settle_next_due_of([case_id])


def _lock_case_of_clock(deadline_id: int) -> int | None:
    """Lock the case the clock runs on; its id (None if the clock is gone)."""
    locked = Case.objects.select_for_update(of=("self",)).filter(deadlines=deadline_id)
    return locked.values_list("pk", flat=True).first()
