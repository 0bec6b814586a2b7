"""Telling a unit's staff that an order arrived or a clock is due soon, through the outbox.

Rows are written in the transaction that raised the order, so an alert is never sent for an
order that rolled back. In-app always; SMS when the person has a phone, keeps `notify_sms` on and
has not turned supervision SMS off (`AlertPreference`); e-mail when the account has an address and
the person has not turned supervision e-mail off.

The sweep tells thousands of clocks at once (`clocks_due_soon`): the staff of all their units and
their preferences are read in two queries and the rows written in bulk, each alert exactly what
`clock_due_soon` writes for one clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.utils.translation import gettext as _

from accounts.models import User
from cases.models import Case, ClockKind, Deadline
from departments.models import Department
from notifications.models import Channel, Notification
from notifications.outbox import messages, queue_all
from supervision.models import AlertPreference, SupervisionOrder
from supervision.units import receiving_staff_of

# A person's supervision alert settings; None: no row, every channel on.
Preferences = dict[int, AlertPreference | None]


def wants_sms(user: User, preference: AlertPreference | None) -> bool:
    if not (user.phone and user.notify_sms):
        return False
    return preference is None or preference.by_sms


def wants_email(user: User, preference: AlertPreference | None) -> bool:
    if not user.email:
        return False
    return preference is None or preference.by_email


def alert_channels(user: User) -> list[str]:
    """In-app always, then whatever else the person accepts."""
    return _channels(user, AlertPreference.objects.filter(user=user).first())


def _preferences(users: Iterable[User]) -> Preferences:
    """The preferences of the people a preference could matter for (a phone or an address), in
    one query; nobody else's is read."""
    asked = {user.pk for user in users if user.phone or user.email}
    found: Preferences = dict.fromkeys(asked)
    if asked:
        for preference in AlertPreference.objects.filter(user_id__in=asked):
            found[preference.user_id] = preference
    return found


def _rows(
    staff: Sequence[User], preferences: Preferences, case: Case, *, subject: str, body: str
) -> list[Notification]:
    rows: list[Notification] = []
    for user in staff:
        preference = preferences.get(user.pk)
        rows += messages(
            case,
            recipient_user=user,
            phone=user.phone or "",
            subject=subject,
            body=body,
            channels=_channels(user, preference),
        )
    return rows


def _channels(user: User, preference: AlertPreference | None) -> list[str]:
    channels: list[str] = [Channel.INAPP]
    if wants_sms(user, preference):
        channels.append(Channel.SMS)
    if wants_email(user, preference):
        channels.append(Channel.EMAIL)
    return channels


def _send(unit: str, case: Case, *, subject: str, body: str) -> int:
    """Alert the receiving staff of the unit with code `unit`; how many rows were written."""
    staff = receiving_staff_of([unit]).get(unit, [])
    rows = _rows(staff, _preferences(staff), case, subject=subject, body=body)
    return len(queue_all(rows))


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
        order.to_department_id,
        order.case,
        subject=_("督办单：案件 %(number)s") % facts,
        body=_(
            "%(from)s对案件 %(number)s 发出%(kind)s，请于 %(due)s 前答复。"
            "督办要求：%(instructions)s"
        )
        % facts,
    )


def dispute_raised(case: Case, *, named: Department, reason: str) -> int:
    """Tell the department named in an authority dispute that it has 7 working days to agree or
    refuse (o121 Art. 33); how many rows were written."""
    facts = {"number": case.number, "from": case.department.name, "reason": reason}
    return _send(
        named.code,
        case,
        subject=_("管辖争议：案件 %(number)s") % facts,
        body=_(
            "%(from)s认为案件 %(number)s 应由本单位管辖，请在 7 个工作日内同意或说明不同意的"
            "理由。理由：%(reason)s"
        )
        % facts,
    )


def dispute_refused(case: Case, *, superior: str, reason: str) -> int:
    """Tell the common superior that the named department refused: it designates now."""
    named = case.disputed_with.name if case.disputed_with is not None else ""
    facts = {"number": case.number, "from": case.department.name, "named": named}
    return _send(
        superior,
        case,
        subject=_("待指定管辖：案件 %(number)s") % facts,
        body=_(
            "%(from)s与%(named)s就案件 %(number)s 的管辖发生争议，%(named)s不同意管辖，"
            "请指定管辖。理由：%(reason)s"
        )
        % {**facts, "reason": reason},
    )


def dispute_dropped(case: Case, *, units: list[str]) -> int:
    """Tell the units an authority dispute awaited (the named department; the common superior
    after a refusal) that it ended without them: withdrawn by the holder, or the case closed."""
    facts = {"number": case.number, "from": case.department.name}
    text = (
        _("案件 %(number)s 已办结，管辖争议随之结束，无需再答复或指定管辖。")
        if case.closed_at is not None
        else _("%(from)s已撤回就案件 %(number)s 提出的管辖争议，无需再答复或指定管辖。")
    )
    subject = _("管辖争议已结束：案件 %(number)s") % facts
    return sum(_send(unit, case, subject=subject, body=text % facts) for unit in units)


def _due_soon_text(clock: Deadline) -> dict[str, str]:
    facts = {
        "number": clock.case.number,
        "clock": ClockKind(clock.kind).label,
        "due": clock.due.isoformat(),
    }
    return {
        "subject": _("期限临近：案件 %(number)s") % facts,
        "body": _("案件 %(number)s 的%(clock)s将于 %(due)s 届满，请及时办理。") % facts,
    }


def _owing_units(clock: Deadline) -> list[str]:
    """The units a clock due soon concerns: the one that owes it and, for the settling clock of
    an authority dispute, the department named in it while its answer is what is due (once it
    refused, it has answered: the common superior designates)."""
    units = [clock.department_id]
    named = clock.case.disputed_with_id
    if clock.kind != ClockKind.SETTLE_AUTHORITY or named is None or named in units:
        return units
    return units if clock.case.dispute_refused else [*units, named]


def clock_due_soon(clock: Deadline) -> int:
    """Alert the staff of the units that owe the clock."""
    return sum(_send(unit, clock.case, **_due_soon_text(clock)) for unit in _owing_units(clock))


def clocks_due_soon(clocks: Sequence[Deadline]) -> int:
    """`clock_due_soon` for many clocks (with their `case` loaded), in order, written in bulk;
    how many rows were written."""
    staff = receiving_staff_of({unit for clock in clocks for unit in _owing_units(clock)})
    preferences = _preferences(user for users in staff.values() for user in users)
    rows: list[Notification] = []
    for clock in clocks:
        for unit in _owing_units(clock):
            unit_staff = staff.get(unit, [])
            rows += _rows(unit_staff, preferences, clock.case, **_due_soon_text(clock))
    return len(queue_all(rows))
