"""Shared builders for the supervision, sweep and stats tests (no tests of its own).

Cases are filed through the real intake (`submit_case`, by the hotline agent Hank so that the
receipt date can be fixed in the past) and moved through the real workflow (`perform`, with
time frozen), so the supervision code sees the rows the platform really writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from accounts.models import User
from cases.intake import submit_case
from cases.models import Case, ClockKind, Deadline
from cases.rules import SHANGHAI
from cases.services import perform

# Monday 1 June 2026 (o121). Its accept clock (7 working days) runs out on Wednesday 10 June.
MONDAY = dt.date(2026, 6, 1)
ACCEPT_DUE = dt.date(2026, 6, 10)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


@contextmanager
def frozen(moment: dt.datetime) -> Iterator[None]:
    """Freeze `timezone.now()` (every module reads it through `django.utils.timezone`)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def complaint_payload(department: str = "330106", **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "department": department,
        "contact_address": "杭州市西湖区文三路100号",
        "respondent": {"name": "杭州好运来电器有限公司", "address": "杭州市西湖区文三路90号"},
        "amount": "199.00",
        "facts": "购买的电饭煲三天后无法加热，商家拒绝退换。",
        "demand": "退货退款",
        "on_behalf_of": {"real_name": "王来电", "phone": "13900000009", "address": "杭州市"},
    }
    payload.update(extra)
    return payload


def file_complaint(agent: User, department: str = "330106", received_on: dt.date = MONDAY) -> Case:
    """A complaint the hotline agent recorded as received on `received_on` at 10:00."""
    return submit_case(
        kind="complaint",
        by=agent,
        payload=complaint_payload(department, received_at=at(received_on).isoformat()),
    )


def act(case: Case, action: str, *, by: User, on: dt.date, **params: Any) -> Case:
    with frozen(at(on, 11)):
        return perform(case, action, by=by, **params)


def clock_of(case: Case, kind: str = ClockKind.ACCEPT) -> Deadline:
    return Deadline.objects.get(case=case, kind=kind, cancelled=False)


def two_working_days_before(due: dt.date) -> dt.date:
    """The last day with two working days left to `due`: the sweep marks the clock due soon."""
    from workdays.calendar import working_days_between

    return next(
        due - dt.timedelta(days=n)
        for n in range(1, 10)
        if working_days_between(due - dt.timedelta(days=n), due) == 2
    )
