"""The deadline sweep: due-soon and overdue marks, the one order an overdue clock raises, escalation
up to the national body, and the alerts the receiving unit gets. Time is fixed by `today=`.

June 2026: the complaint is received Monday 1 June; its accept clock runs out Wednesday 10 June.
Working days after that: 11, 12, 15, 16, 17, 18 (19 is the Dragon Boat Festival), 22, 23...
"""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from cases.models import CaseEvent, ClockKind, Visibility
from notifications.models import Channel, Notification
from supervision.models import AlertPreference, DueSoonNotice, OrderKind, OrderStatus
from supervision.models import SupervisionOrder as Order
from supervision.services import escalate_order, raise_overdue_order
from supervision.sweeps import SweepResult, sweep_deadlines
from supervision.tasks import sweep_deadlines_task
from tests.test_supervision_factories import ACCEPT_DUE, MONDAY, act, clock_of, file_complaint

D = dt.date


@pytest.fixture
def complaint(cast):
    return file_complaint(cast.hank)


def test_the_fixture_clock_is_due_on_wednesday_10_june(complaint):
    assert clock_of(complaint).due == ACCEPT_DUE


def test_an_accept_clock_that_runs_out_raises_one_order_from_the_city_to_the_county(complaint):
    result = sweep_deadlines(today=D(2026, 6, 11))

    assert result.overdue == 1 and result.overdue_orders == 1
    order = Order.objects.get()
    assert (order.kind, order.from_department_id, order.to_department_id) == (
        OrderKind.OVERDUE,
        "330100",
        "330106",
    )
    assert order.deadline == clock_of(complaint)
    assert order.status == OrderStatus.OPEN
    assert order.due == D(2026, 6, 16)  # three working days
    assert clock_of(complaint).overdue is True


def test_running_the_sweep_again_raises_nothing_new(complaint):
    sweep_deadlines(today=D(2026, 6, 11))

    again = sweep_deadlines(today=D(2026, 6, 11))
    next_day = sweep_deadlines(today=D(2026, 6, 12))

    assert again == SweepResult()
    assert next_day == SweepResult()
    assert Order.objects.count() == 1


def test_the_order_is_an_internal_event_on_the_case_timeline(complaint):
    sweep_deadlines(today=D(2026, 6, 11))

    event = CaseEvent.objects.get(case=complaint, action="supervision_order")
    assert event.visibility == Visibility.INTERNAL
    assert event.department_id == "330100"
    assert event.data["to"] == "330106" and event.data["kind"] == "overdue"


def test_nothing_is_overdue_on_the_due_date_itself(complaint):
    result = sweep_deadlines(today=ACCEPT_DUE)

    assert result.overdue == 0
    assert not Order.objects.exists()
    assert clock_of(complaint).due_soon is True


def test_a_clock_met_in_time_raises_no_order(complaint, cast):
    act(complaint, "accept", by=cast.ken, on=D(2026, 6, 9))

    sweep_deadlines(today=D(2026, 6, 11))

    assert not Order.objects.exists()


def test_a_station_case_is_supervised_by_its_county(complaint, cast):
    act(complaint, "accept", by=cast.ken, on=D(2026, 6, 2), handler_unit="330106001")
    mediate = clock_of(complaint, ClockKind.MEDIATE)

    sweep_deadlines(today=mediate.due + dt.timedelta(days=1))

    order = Order.objects.get()
    assert (order.from_department_id, order.to_department_id) == ("330106", "330106001")


def test_a_paused_clock_is_neither_due_soon_nor_overdue(complaint, cast):
    act(complaint, "accept", by=cast.ken, on=D(2026, 6, 2))
    act(complaint, "start_mediation", by=cast.ken, on=D(2026, 6, 2))
    act(complaint, "pause", by=cast.ken, on=D(2026, 6, 3), reason="送检")
    mediate = clock_of(complaint, ClockKind.MEDIATE)

    sweep_deadlines(today=mediate.due)
    sweep_deadlines(today=mediate.due + dt.timedelta(days=5))

    mediate.refresh_from_db()
    assert (mediate.due_soon, mediate.overdue) == (False, False)
    assert not Order.objects.exists()


# --- due soon ---------------------------------------------------------------------------------


def test_two_working_days_left_is_due_soon_and_three_is_not(complaint):
    sweep_deadlines(today=D(2026, 6, 5))  # Friday: 8, 9, 10 are left
    assert clock_of(complaint).due_soon is False

    result = sweep_deadlines(today=D(2026, 6, 8))  # Monday: 9, 10 are left

    assert result.due_soon == 1
    assert clock_of(complaint).due_soon is True


def test_an_overdue_clock_is_no_longer_due_soon(complaint):
    sweep_deadlines(today=D(2026, 6, 8))

    sweep_deadlines(today=D(2026, 6, 11))

    clock = clock_of(complaint)
    assert (clock.due_soon, clock.overdue) == (False, True)


def test_a_met_clock_loses_its_due_soon_mark(complaint, cast):
    sweep_deadlines(today=D(2026, 6, 8))
    act(complaint, "accept", by=cast.ken, on=D(2026, 6, 8))

    sweep_deadlines(today=D(2026, 6, 9))

    assert clock_of(complaint).due_soon is False


def test_the_unit_is_told_once_when_a_clock_turns_due_soon(complaint, cast):
    first = sweep_deadlines(today=D(2026, 6, 8))
    second = sweep_deadlines(today=D(2026, 6, 9))

    assert (first.due_soon_alerts, second.due_soon_alerts) == (1, 0)
    alerts = Notification.objects.filter(subject__startswith="期限临近")
    assert sorted(alerts.values_list("recipient__username", flat=True)) == ["helen", "ken"]
    assert DueSoonNotice.objects.get().due == ACCEPT_DUE


# --- alerts -----------------------------------------------------------------------------------


def test_an_order_alerts_the_receiving_staff_of_the_unit_and_nobody_else(complaint, cast):
    sweep_deadlines(today=D(2026, 6, 11))

    rows = Notification.objects.filter(subject__startswith="督办单")
    assert sorted(rows.values_list("recipient__username", flat=True)) == ["helen", "ken"]
    assert set(rows.values_list("channel", flat=True)) == {Channel.INAPP}
    assert all(row.case_id == complaint.pk for row in rows)


def test_an_order_is_also_sent_by_sms_when_the_person_allows_it(complaint, cast):
    cast.ken.phone = "13900000101"
    cast.ken.save()
    cast.helen.phone = "13900000102"
    cast.helen.save()
    AlertPreference.objects.create(user=cast.helen, by_sms=False)

    sweep_deadlines(today=D(2026, 6, 11))

    sms = Notification.objects.filter(channel=Channel.SMS)
    assert list(sms.values_list("recipient__username", "phone")) == [("ken", "13900000101")]


# --- escalation -------------------------------------------------------------------------------


def chain() -> list[tuple[str, str, int]]:
    return list(
        Order.objects.order_by("round").values_list("from_department_id", "status", "round")
    )


def test_an_unanswered_order_escalates_one_level_at_a_time_up_to_national_and_stops(complaint):
    sweep_deadlines(today=D(2026, 6, 11))  # city order, due 16 June

    assert sweep_deadlines(today=D(2026, 6, 16)).escalated == 0  # not late on its due date
    assert sweep_deadlines(today=D(2026, 6, 17)).escalated == 1
    assert chain() == [("330100", "escalated", 0), ("330000", "open", 1)]

    province = Order.objects.get(round=1)
    assert province.to_department_id == "330106" and province.due == D(2026, 6, 23)
    assert Order.objects.get(round=0).escalated_to == province

    assert sweep_deadlines(today=D(2026, 6, 24)).escalated == 1
    assert chain()[-1] == ("100000", "open", 2)

    assert sweep_deadlines(today=D(2026, 7, 30)).escalated == 0
    assert chain() == [
        ("330100", "escalated", 0),
        ("330000", "escalated", 1),
        ("100000", "open", 2),
    ]


def test_each_escalation_is_an_internal_event_and_alerts_the_unit_again(complaint):
    sweep_deadlines(today=D(2026, 6, 11))
    sweep_deadlines(today=D(2026, 6, 17))

    event = CaseEvent.objects.get(case=complaint, action="supervision_escalate")
    assert event.visibility == Visibility.INTERNAL
    assert event.department_id == "330000"
    assert Notification.objects.filter(subject__startswith="督办单").count() == 4


def test_an_answered_order_does_not_escalate(complaint, cast):
    from supervision.services import respond_to_order

    sweep_deadlines(today=D(2026, 6, 11))
    respond_to_order(order=Order.objects.get(), by=cast.ken, note="已联系双方，今日受理。")

    assert sweep_deadlines(today=D(2026, 6, 30)).escalated == 0
    assert chain() == [("330100", "answered", 0)]


# --- racing sweeps ----------------------------------------------------------------------------


def test_a_second_sweep_racing_for_the_same_clock_raises_nothing(complaint):
    sweep_deadlines(today=D(2026, 6, 11))

    assert raise_overdue_order(clock_of(complaint).pk, today=D(2026, 6, 11)) is None
    assert Order.objects.count() == 1


def test_the_database_refuses_a_second_first_order_for_one_clock(complaint):
    sweep_deadlines(today=D(2026, 6, 11))
    order = Order.objects.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(
            case=complaint,
            deadline=order.deadline,
            kind=OrderKind.OVERDUE,
            from_department=order.from_department,
            to_department=order.to_department,
            instructions="重复",
            due=order.due,
        )


def test_a_second_sweep_racing_to_escalate_the_same_order_does_nothing(complaint):
    sweep_deadlines(today=D(2026, 6, 11))
    order = Order.objects.get()

    assert escalate_order(order.pk, today=D(2026, 6, 17)) is not None
    assert escalate_order(order.pk, today=D(2026, 6, 17)) is None
    assert Order.objects.count() == 2


# --- ways to run it ---------------------------------------------------------------------------


def test_the_command_sweeps_as_of_a_given_day(complaint):
    out = StringIO()

    call_command("sweep_deadlines", "--today", "2026-06-11", stdout=out)

    assert "overdue_orders=1" in out.getvalue()
    assert Order.objects.count() == 1


def test_the_command_refuses_a_malformed_day(db):
    with pytest.raises(CommandError):
        call_command("sweep_deadlines", "--today", "11/06/2026")


def test_the_celery_task_runs_a_sweep_of_today(cast):
    file_complaint(cast.hank, received_on=MONDAY)

    counts = sweep_deadlines_task.apply().get()

    # Received in June, the clock is long overdue by the time the suite runs.
    assert counts["overdue"] == 1 and counts["overdue_orders"] == 1


def test_a_clock_paused_while_due_soon_loses_the_mark(complaint, cast):
    from workdays.calendar import working_days_between

    act(complaint, "accept", by=cast.ken, on=D(2026, 6, 2))
    act(complaint, "start_mediation", by=cast.ken, on=D(2026, 6, 2))
    mediate = clock_of(complaint, ClockKind.MEDIATE)
    soon = next(
        mediate.due - dt.timedelta(days=n)
        for n in range(1, 10)
        if working_days_between(mediate.due - dt.timedelta(days=n), mediate.due) == 2
    )
    sweep_deadlines(today=soon)
    assert clock_of(complaint, ClockKind.MEDIATE).due_soon is True

    act(complaint, "pause", by=cast.ken, on=soon, reason="送检")
    sweep_deadlines(today=soon)

    assert clock_of(complaint, ClockKind.MEDIATE).due_soon is False


def test_the_answer_period_is_read_from_the_settings_when_the_order_is_raised(complaint, settings):
    settings.SUPERVISION_ORDER_DAYS = 5

    sweep_deadlines(today=D(2026, 6, 11))

    assert Order.objects.get().due == D(2026, 6, 18)  # 12, 15, 16, 17, 18
