"""Telling a unit's staff that an order arrived or a clock is due soon, through the outbox.

Rows are written in the transaction that raised the order, so an alert is never sent for an
order that rolled back. In-app always; SMS when the person has a phone, keeps `notify_sms` on and
has not turned supervision SMS off (`AlertPreference`); e-mail when the account has an address and
the person has not turned supervision e-mail off.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.models import User
from cases.models import Case, ClockKind, Deadline
from departments.models import Department
from notifications.models import Channel
from notifications.outbox import queue
from supervision.models import AlertPreference, SupervisionOrder
from supervision.units import receiving_staff


def wants_sms(user: User) -> bool:
    if not (user.phone and user.notify_sms):
        return False
    preference = AlertPreference.objects.filter(user=user).first()
    return preference is None or preference.by_sms


def wants_email(user: User) -> bool:
    if not user.email:
        return False
    preference = AlertPreference.objects.filter(user=user).first()
    return preference is None or preference.by_email


def alert_channels(user: User) -> list[str]:
    """In-app always, then whatever else the person accepts."""
    channels: list[str] = [Channel.INAPP]
    if wants_sms(user):
        channels.append(Channel.SMS)
    if wants_email(user):
        channels.append(Channel.EMAIL)
    return channels


def _send(unit: Department, case: Case, *, subject: str, body: str) -> int:
    sent = 0
    for user in receiving_staff(unit):
        channels = alert_channels(user)
        rows = queue(
            case,
            recipient_user=user,
            phone=user.phone or "",
            subject=subject,
            body=body,
            channels=channels,
        )
        sent += len(rows)
    return sent


def order_arrived(order: SupervisionOrder) -> int:
    """Alert the staff of the unit the order is addressed to; how many rows were written."""
    facts = {
        "number": order.case.number,
        "kind": order.get_kind_display(),
        "from": order.from_department.name,
        "due": order.due.isoformat(),
        "instructions": order.instructions,
    }
    return _send(
        order.to_department,
        order.case,
        subject=_("督办单：案件 %(number)s") % facts,
        body=_(
            "%(from)s对案件 %(number)s 发出%(kind)s，请于 %(due)s 前答复。"
            "督办要求：%(instructions)s"
        )
        % facts,
    )


def clock_due_soon(clock: Deadline) -> int:
    """Alert the staff of the unit that owes the clock."""
    facts = {
        "number": clock.case.number,
        "clock": ClockKind(clock.kind).label,
        "due": clock.due.isoformat(),
    }
    return _send(
        clock.department,
        clock.case,
        subject=_("期限临近：案件 %(number)s") % facts,
        body=_("案件 %(number)s 的%(clock)s将于 %(due)s 届满，请及时办理。") % facts,
    )
