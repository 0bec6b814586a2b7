"""The deadline sweep: due-soon and overdue marks, the one order an overdue clock raises, escalation
up to the national body, and the alerts the receiving unit gets. Time is fixed by `today=`.

June 2026: the complaint is received Monday 1 June; its accept clock runs out Wednesday 10 June.
Working days after that: 11, 12, 15, 16, 17, 18 (19 is the Dragon Boat Festival), 22, 23...
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from cases.models import CaseEvent, ClockKind, Deadline, Visibility
from notifications.models import Channel, Notification
from supervision.models import AlertPreference, DueSoonNotice, OrderKind, OrderStatus
from supervision.models import SupervisionOrder as Order
from supervision.services import escalate_order, raise_overdue_order
from supervision.sweeps import SweepResult, sweep_deadlines
from supervision.tasks import sweep_deadlines_task
from tests.clocks import set_clocks
from tests.test_supervision_factories import (
    ACCEPT_DUE,
    MONDAY,
    act,
    clock_of,
    file_complaint,
    two_working_days_before,
)

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
    act(complaint, "accept", by=cast.ken, on=D(2026, 6, 2))
    act(complaint, "start_mediation", by=cast.ken, on=D(2026, 6, 2))
    mediate = clock_of(complaint, ClockKind.MEDIATE)
    soon = two_working_days_before(mediate.due)
    sweep_deadlines(today=soon)
    assert clock_of(complaint, ClockKind.MEDIATE).due_soon is True

    act(complaint, "pause", by=cast.ken, on=soon, reason="送检")
    sweep_deadlines(today=soon)

    assert clock_of(complaint, ClockKind.MEDIATE).due_soon is False


def test_the_answer_period_is_read_from_the_settings_when_the_order_is_raised(complaint, settings):
    settings.SUPERVISION_ORDER_DAYS = 5

    sweep_deadlines(today=D(2026, 6, 11))

    assert Order.objects.get().due == D(2026, 6, 18)  # 12, 15, 16, 17, 18


# --- set-based due-soon alerts ----------------------------------------------------------------

DUE_SOON_DAY = D(2026, 6, 8)  # Monday: the accept clocks of 1 June have 9 and 10 June left


def outbox() -> list[tuple]:
    """Every row written, as what it says and to whom, in the order written."""
    rows = Notification.objects.order_by("id")
    return list(
        rows.values_list("recipient__username", "phone", "channel", "case_id", "subject", "body")
    )


def give(user, *, phone: str = "", email: str = "", notify_sms: bool = True):
    user.phone, user.email, user.notify_sms = phone, email, notify_sms
    user.save(update_fields=["phone", "email", "notify_sms"])
    return user


@pytest.fixture
def two_units(cast):
    """Complaints due soon in two counties; staff with each mix of phone, address and preference."""
    give(cast.ken, phone="13900000101", email="ken@example.cn")
    give(cast.helen, phone="13900000102", email="helen@example.cn")
    AlertPreference.objects.create(user=cast.helen, by_sms=False)
    give(cast.nick, phone="13900000103", email="nick@example.cn", notify_sms=False)
    AlertPreference.objects.create(user=cast.nick, by_email=False)
    return [
        file_complaint(cast.hank),
        file_complaint(cast.hank, department="330102"),
        file_complaint(cast.hank),
    ]


def test_a_due_soon_alert_says_which_clock_of_which_case_runs_out_when(complaint, cast):
    sweep_deadlines(today=DUE_SOON_DAY)

    assert outbox() == [
        (
            name,
            "",
            Channel.INAPP,
            complaint.pk,
            f"期限临近：案件 {complaint.number}",
            f"案件 {complaint.number} 的受理期限将于 2026-06-10 届满，请及时办理。",
        )
        for name in ("ken", "helen")
    ]


def test_each_person_gets_the_due_soon_alert_on_the_channels_they_accept(two_units, cast):
    sweep_deadlines(today=DUE_SOON_DAY)

    channels = {(name, channel) for name, _phone, channel, *_ in outbox()}
    assert channels == {
        ("ken", Channel.INAPP),
        ("ken", Channel.SMS),
        ("ken", Channel.EMAIL),
        ("helen", Channel.INAPP),  # SMS turned off for supervision alerts
        ("helen", Channel.EMAIL),
        ("nick", Channel.INAPP),  # no SMS at all (notify_sms off), e-mail turned off
    }
    sms = Notification.objects.filter(channel=Channel.SMS)
    assert set(sms.values_list("phone", flat=True)) == {"13900000101"}


def test_the_bulk_alerts_are_exactly_what_telling_each_clock_alone_writes(two_units):
    from supervision.alerts import clock_due_soon

    result = sweep_deadlines(today=DUE_SOON_DAY)
    bulk = outbox()
    Notification.objects.all().delete()
    for clock in Deadline.objects.filter(due_soon=True).select_related("case", "department"):
        clock_due_soon(clock)

    assert result.due_soon_alerts == 3
    assert len(bulk) == 2 * 5 + 1  # West Lake: ken 3, helen 2, twice; Shangcheng: nick 1
    assert bulk == outbox()


def test_an_idle_sweep_writes_nothing(two_units):
    sweep_deadlines(today=DUE_SOON_DAY)
    written = (Notification.objects.count(), DueSoonNotice.objects.count(), Order.objects.count())

    with CaptureQueriesContext(connection) as queries:
        again = sweep_deadlines(today=DUE_SOON_DAY)

    assert again == SweepResult()
    assert (Notification.objects.count(), DueSoonNotice.objects.count(), Order.objects.count()) == (
        written
    )
    # A handful of set-based statements, none per clock, case or unit.
    assert len(queries) <= 15
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert [sql.split()[2] for sql in inserts] == ['"supervision_duesoonnotice"']


def test_a_sweep_with_a_stale_view_tells_only_the_clocks_it_inserted_notices_for(two_units):
    # Given a racing sweep that told the first clock after this sweep chose its clocks
    # (simulated: the choice ignores the notices already written)
    from supervision import sweeps

    first = clock_of(two_units[0])
    DueSoonNotice.objects.create(deadline=first, due=first.due)
    stale = sweeps._running_clocks().filter(due_soon=True).order_by("due", "pk")
    sweeps.mark_clocks(today=DUE_SOON_DAY)

    with mock.patch.object(sweeps, "_due_soon_untold", return_value=stale):
        told = sweeps.tell_due_soon()

    assert told == 2
    assert {row[3] for row in outbox()} == {two_units[1].pk, two_units[2].pk}
    assert DueSoonNotice.objects.filter(deadline=first).count() == 1


def test_a_clock_is_announced_again_when_its_due_date_moves(complaint):
    sweep_deadlines(today=DUE_SOON_DAY)
    set_clocks(Deadline.objects.filter(pk=clock_of(complaint).pk), due=D(2026, 6, 9))

    result = sweep_deadlines(today=DUE_SOON_DAY)

    assert result.due_soon_alerts == 1
    assert sorted(DueSoonNotice.objects.values_list("due", flat=True)) == [
        D(2026, 6, 9),
        ACCEPT_DUE,
    ]
    assert Notification.objects.filter(body__contains="2026-06-09").count() == 2


def test_the_due_soon_step_stops_at_its_limit_and_the_next_run_carries_on(two_units, monkeypatch):
    from supervision import sweeps

    monkeypatch.setattr(sweeps, "BATCH", 1)
    monkeypatch.setattr(sweeps, "DUE_SOON_BATCH", 2)

    first = sweep_deadlines(today=DUE_SOON_DAY)
    second = sweep_deadlines(today=DUE_SOON_DAY)
    third = sweep_deadlines(today=DUE_SOON_DAY)

    assert (first.due_soon_alerts, second.due_soon_alerts, third.due_soon_alerts) == (2, 1, 0)
    assert DueSoonNotice.objects.count() == 3


def test_a_sweep_kicks_notification_delivery_once(two_units, django_capture_on_commit_callbacks):
    with (
        mock.patch("notifications.tasks.deliver_pending.delay") as kick,
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = sweep_deadlines(today=D(2026, 6, 11))  # three orders and their alerts

    assert result.overdue_orders == 3
    assert kick.call_count == 1


def test_raising_an_overdue_order_takes_a_bounded_number_of_queries(
    two_units, django_assert_max_num_queries
):
    # ken and helen both have a phone and an address, so their preferences are read
    from supervision.sweeps import mark_clocks

    mark_clocks(today=D(2026, 6, 11))
    clock = clock_of(two_units[0])

    # savepoint, lock, clock, order, staff, preferences, alerts, last event, event, head, release
    with django_assert_max_num_queries(11):
        order = raise_overdue_order(clock.pk, today=D(2026, 6, 11))

    assert order is not None and order.deadline_id == clock.pk
    assert Notification.objects.filter(subject__startswith="督办单").count() == 5


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs two real connections (PostgreSQL)",
)
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first_commits", [True, False])
def test_two_sweeps_at_once_tell_each_clock_once(two_units, first_commits):
    # Given one sweep that has written its notices but not committed yet
    from supervision import sweeps

    sweeps.mark_clocks(today=DUE_SOON_DAY)
    written = threading.Event()
    told: dict[str, int] = {}

    class Abort(Exception):
        pass

    def first() -> None:
        try:
            with transaction.atomic():
                told["first"] = sweeps.tell_due_soon()
                written.set()
                time.sleep(0.5)
                if not first_commits:
                    raise Abort
        except Abort:
            told["first"] = 0
        finally:
            written.set()
            connection.close()

    def second() -> None:
        written.wait(5)
        started = time.perf_counter()
        told["second"] = sweeps.tell_due_soon()
        told["waited"] = int(time.perf_counter() - started >= 0.3)
        connection.close()

    # When a second sweep tells the same clocks meanwhile
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    # Then it waited for the first and told only what the first did not commit
    assert told["waited"] == 1
    assert (told["first"], told["second"]) == ((3, 0) if first_commits else (0, 3))
    assert DueSoonNotice.objects.count() == 3
    assert Notification.objects.count() == 2 * 5 + 1
