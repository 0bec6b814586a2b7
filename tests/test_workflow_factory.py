"""Cases to act on in the workflow tests, made the way intake makes them (a submit event and the
first clock), with frozen time so deadline arithmetic is exact. Imported by the other workflow
test modules; the tests here check that the factory itself makes a sound case."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from cases.deadlines import start_clock
from cases.events import append_event, verify_case_events
from cases.models import Case, Channel, ClockKind, Kind, Rules
from cases.rules import SHANGHAI, local_date, rules_for
from departments.models import Department

# A Monday in June 2026 (o121), and one in March 2026 (o20: received before 2026-04-15).
O121_DAY = dt.datetime(2026, 6, 1, 10, 0, tzinfo=SHANGHAI)
O20_DAY = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
_numbers = itertools.count(1)


@contextmanager
def frozen(moment: dt.datetime) -> Iterator[None]:
    """Freeze `timezone.now()` (every module calls it through `django.utils.timezone`)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def make_case(
    *,
    kind: str = Kind.COMPLAINT,
    department: Department,
    consumer=None,
    received_at: dt.datetime = O121_DAY,
    respondent=None,
    notify_me: bool = False,
    facts: str = "购买的电饭煲使用三天后无法加热。",
) -> Case:
    """A freshly submitted case at `department`, as intake leaves it."""
    prefix = {Kind.COMPLAINT: "T", Kind.REPORT: "J", Kind.CONSULTATION: "Z"}[kind]
    case = Case.objects.create(
        number=f"{prefix}TEST{next(_numbers):08d}",
        kind=kind,
        rules=rules_for(received_at),
        channel=Channel.WEB,
        department=department,
        received_at=received_at,
        consumer=consumer,
        created_by=consumer or department.memberships.first().user,
        party_name=consumer.real_name if consumer else "王来电",
        party_phone=consumer.phone if consumer else "13900000009",
        party_address="杭州市西湖区文三路1号",
        respondent=respondent,
        respondent_name=respondent.name if respondent else "杭州好运来电器有限公司",
        facts=facts,
        demand="退货退款",
        notify_me=notify_me,
    )
    append_event(case, action="submit", by=consumer, department=department, at=received_at)
    first = ClockKind.ANSWER if kind == Kind.CONSULTATION else ClockKind.ACCEPT
    start_clock(
        case,
        kind=first,
        department=department,
        start=local_date(received_at),
        working_days=7,
    )
    case.refresh_from_db()
    return case


def test_a_made_case_is_submitted_with_an_intact_chain_and_an_accept_clock(cast, tree):
    case = make_case(department=tree.county, consumer=cast.alice, respondent=cast.shop)

    assert case.status == "submitted"
    assert case.rules == Rules.O121
    assert verify_case_events(case) is None
    clock = case.deadlines.get()
    assert (clock.kind, clock.due) == (ClockKind.ACCEPT, dt.date(2026, 6, 10))


def test_a_case_received_before_2026_04_15_follows_order_20(cast, tree):
    case = make_case(department=tree.county, consumer=cast.alice, received_at=O20_DAY)

    assert case.rules == Rules.O20
    assert case.deadlines.get().due == dt.date(2026, 3, 11)
