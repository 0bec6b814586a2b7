"""Tracking supervision (跟踪督办) of major and difficult cases: a progress report is ordered every
N working days until the case closes; answering the order is the report.

June 2026 working days: 1-5, 8-12, 15-18 (19 is the Dragon Boat Festival), 22-26.
"""

from __future__ import annotations

import datetime as dt

import pytest

from cases.models import CaseEvent, Visibility
from supervision.models import OrderKind, OrderStatus, Tracking
from supervision.models import SupervisionOrder as Order
from supervision.services import (
    Conflict,
    InvalidInput,
    NotAllowed,
    respond_to_order,
    start_tracking,
)
from supervision.sweeps import sweep_deadlines
from tests.test_supervision_factories import act, file_complaint

D = dt.date


@pytest.fixture
def complaint(cast):
    case = file_complaint(cast.hank)
    return act(case, "accept", by=cast.ken, on=D(2026, 6, 2))


@pytest.fixture
def tracked(complaint, cast):
    return start_tracking(
        case=complaint, by=cast.cathy, every_n_working_days=5, today=D(2026, 6, 3)
    )


def tracking_orders():
    return list(Order.objects.filter(kind=OrderKind.TRACKING).order_by("id"))


def test_starting_marks_the_case_major_and_orders_the_first_report(tracked, complaint):
    complaint.refresh_from_db()
    assert complaint.is_major is True
    (first,) = tracking_orders()
    assert (first.from_department_id, first.to_department_id) == ("330100", "330106")
    assert first.due == D(2026, 6, 10)  # 5 working days after 3 June
    assert first.tracking == tracked
    assert tracked.next_order_on == D(2026, 6, 10)


def test_every_step_is_an_internal_event(tracked, complaint):
    events = CaseEvent.objects.filter(case=complaint, seq__gt=2).order_by("seq")
    assert [(e.action, e.visibility) for e in events] == [
        ("mark_major", Visibility.INTERNAL),
        ("tracking_start", Visibility.INTERNAL),
        ("supervision_order", Visibility.INTERNAL),
    ]


def test_the_sweep_orders_the_next_report_when_the_period_ends(tracked):
    assert sweep_deadlines(today=D(2026, 6, 9)).tracking_orders == 0

    assert sweep_deadlines(today=D(2026, 6, 10)).tracking_orders == 1
    assert sweep_deadlines(today=D(2026, 6, 10)).tracking_orders == 0

    second = tracking_orders()[1]
    assert second.due == D(2026, 6, 17)
    tracked.refresh_from_db()
    assert tracked.next_order_on == D(2026, 6, 17)


def test_answering_a_tracking_order_is_the_progress_report(tracked, cast):
    (first,) = tracking_orders()

    respond_to_order(order=first, by=cast.ken, note="已组织双方调解一次，下周再次调解。")

    first.refresh_from_db()
    assert first.status == OrderStatus.ANSWERED
    assert sweep_deadlines(today=D(2026, 6, 11)).escalated == 0


def test_an_unreported_period_escalates_like_any_order(tracked):
    sweep_deadlines(today=D(2026, 6, 11))

    first = tracking_orders()[0]
    assert first.status == OrderStatus.ESCALATED
    assert first.escalated_to.from_department_id == "330000"


def test_tracking_ends_when_the_case_closes(tracked, complaint, cast):
    act(
        complaint,
        "terminate",
        by=cast.ken,
        on=D(2026, 6, 5),
        ground="no_agreement_possible",
        note="x",
    )

    result = sweep_deadlines(today=D(2026, 6, 30))

    assert result.tracking_ended == 1
    assert result.tracking_orders == 0 and result.escalated == 0
    tracked.refresh_from_db()
    assert tracked.ended_at is not None
    assert len(tracking_orders()) == 1


def test_a_case_already_marked_major_can_still_be_tracked(complaint, cast):
    act(complaint, "mark_major", by=cast.paul, on=D(2026, 6, 3))

    tracking = start_tracking(case=complaint, by=cast.cathy, every_n_working_days=3)

    assert tracking.from_department_id == "330100"


@pytest.mark.parametrize("who", ["ken", "helen", "nick", "alice"])
def test_only_a_supervisor_above_the_unit_may_start_tracking(complaint, cast, who):
    with pytest.raises(NotAllowed):
        start_tracking(case=complaint, by=getattr(cast, who), every_n_working_days=5)
    complaint.refresh_from_db()
    assert complaint.is_major is False
    assert not Tracking.objects.exists()


def test_a_tracked_case_is_not_tracked_twice(tracked, complaint, cast):
    with pytest.raises(Conflict):
        start_tracking(case=complaint, by=cast.paul, every_n_working_days=5)


@pytest.mark.parametrize("period", [0, 61])
def test_the_period_is_between_1_and_60_working_days(complaint, cast, period):
    with pytest.raises(InvalidInput):
        start_tracking(case=complaint, by=cast.cathy, every_n_working_days=period)
