"""The outbox: what the consumer is told, and delivery that is at-least-once and never lost."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from accounts import sms
from cases.models import Case, ClockKind, Deadline, Kind
from cases.services import perform
from notifications.models import Notification
from notifications.outbox import queue
from notifications.tasks import MAX_ATTEMPTS, deliver_one, deliver_pending
from tests.test_workflow_factory import (  # noqa: F401 (an autouse fixture)
    O121_DAY,
    frozen,
    make_case,
)


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture
def complaint(cast, tree) -> Case:
    return make_case(department=tree.county, consumer=cast.alice, respondent=cast.shop)


def act(case: Case, action: str, by, **params) -> Case:
    with frozen(O121_DAY):
        return perform(case, action, by=by, **params)


def bodies(case: Case) -> list[str]:
    rows = Notification.objects.filter(case=case, channel="sms").order_by("id")
    return list(rows.values_list("body", flat=True))


def test_acceptance_by_a_station_is_told_in_the_county_bureaus_name(complaint, cast, tree):
    act(complaint, "accept", by=cast.ken, handler_unit="330106001")

    rows = Notification.objects.filter(case=complaint).order_by("channel")
    assert [(r.channel, r.recipient, r.phone) for r in rows] == [
        ("inapp", cast.alice, "13800000001"),
        ("sms", cast.alice, "13800000001"),
    ]
    body = rows[0].body
    assert tree.county.name in body and complaint.number in body
    assert tree.station.name not in body


def test_a_rejection_gives_the_ground_the_reason_and_the_other_routes(complaint, cast):
    act(complaint, "reject", by=cast.ken, ground="time_barred", reason="消费发生于2021年")

    (body,) = bodies(complaint)
    assert "知道或者应当知道权益受到侵害之日起超过三年" in body
    assert "消费发生于2021年" in body
    for route in ("与经营者协商", "向消费者协会投诉", "申请仲裁", "向人民法院起诉"):
        assert route in body


def test_the_end_of_mediation_is_told(complaint, cast):
    case = act(complaint, "accept", by=cast.ken)
    case = act(case, "start_mediation", by=cast.ken)
    act(case, "record_agreement", by=cast.ken, terms="退款", amount_recovered="199")

    assert "挽回经济损失 199.00 元" in bodies(complaint)[-1]


def test_a_termination_is_told_to_both_parties_and_met_once_delivered(complaint, cast):
    case = act(complaint, "accept", by=cast.ken)
    case = act(case, "terminate", by=cast.ken, ground="absent_or_refused", note="拒绝调解")
    clock = Deadline.objects.get(case=case, kind=ClockKind.NOTIFY_TERMINATION)
    assert Notification.objects.filter(deadline=clock, recipient=cast.betty).exists()
    assert clock.is_open
    assert Case.objects.get(pk=case.pk).next_due == clock.due  # the one clock left open

    deliver_pending()

    clock.refresh_from_db()
    assert clock.met_at is not None
    assert Case.objects.get(pk=case.pk).next_due is None


def test_a_report_decision_is_told_only_when_asked(cast, tree):
    asked = make_case(kind=Kind.REPORT, department=tree.county, consumer=cast.alice, notify_me=True)
    silent = make_case(kind=Kind.REPORT, department=tree.county, consumer=cast.bob)
    for case in (asked, silent):
        case = act(case, "accept", by=cast.ken)
        act(case, "decide", by=cast.helen, decision="filed", note="立案")

    assert "决定立案" in bodies(asked)[-1]
    assert not any("决定" in body for body in bodies(silent))


def test_a_province_may_turn_off_the_decision_notice_under_order_121(cast, tree, settings):
    settings.REPORT_DECISION_NOTICE_O121 = False
    report = make_case(
        kind=Kind.REPORT, department=tree.county, consumer=cast.alice, notify_me=True
    )
    case = act(report, "accept", by=cast.ken)

    act(case, "decide", by=cast.helen, decision="not_filed", note="证据不足")

    assert not Deadline.objects.filter(case=report, kind=ClockKind.NOTIFY_DECISION).exists()
    assert len(bodies(report)) == 1  # the acceptance only


def test_an_answer_is_told_and_a_long_one_is_cut_in_the_message(cast, tree):
    consultation = make_case(kind=Kind.CONSULTATION, department=tree.county, consumer=cast.alice)

    act(consultation, "answer", by=cast.ken, answer="答" * 300)

    (body,) = bodies(consultation)
    assert "答" * 120 + "……" in body and "答" * 121 not in body


def test_a_hotline_caller_without_an_account_gets_only_the_sms(cast, tree):
    case = make_case(department=tree.county)

    act(case, "accept", by=cast.ken)

    assert list(Notification.objects.filter(case=case).values_list("channel", "phone")) == [
        ("sms", "13900000009")
    ]


# --- Delivery ----------------------------------------------------------------------------------


def test_delivery_sends_each_row_once(complaint, cast, sms_outbox):
    act(complaint, "accept", by=cast.ken)

    assert deliver_pending() == 2
    assert deliver_pending() == 0

    assert [m.phone for m in sms_outbox] == ["13800000001"]
    assert not Notification.objects.filter(case=complaint, sent_at__isnull=True).exists()


def test_a_failed_send_is_kept_with_its_error_and_retried_later(complaint, cast, sms_outbox):
    act(complaint, "accept", by=cast.ken)
    row = Notification.objects.get(case=complaint, channel="sms")

    with mock.patch("accounts.sms.LocmemBackend.send", side_effect=sms.SmsDeliveryError("down")):
        assert deliver_one(row.pk) is False
    row.refresh_from_db()
    assert (row.sent_at, row.attempts, row.last_error) == (None, 1, "down")
    assert deliver_one(row.pk) is False  # backing off

    later = timezone.now() + dt.timedelta(minutes=2)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert deliver_one(row.pk) is True
    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 2
    assert len(sms_outbox) == 1


def test_a_row_claimed_by_another_worker_is_not_sent_twice(complaint, cast, sms_outbox):
    act(complaint, "accept", by=cast.ken)
    row = Notification.objects.get(case=complaint, channel="sms")
    Notification.objects.filter(pk=row.pk).update(
        not_before=timezone.now() + dt.timedelta(minutes=5), attempts=1
    )

    assert deliver_one(row.pk) is False
    assert sms_outbox == []


def test_a_row_that_keeps_failing_is_never_deleted(complaint, cast):
    act(complaint, "accept", by=cast.ken)
    Notification.objects.filter(case=complaint).update(attempts=MAX_ATTEMPTS, last_error="down")

    assert deliver_pending() == 0
    assert Notification.objects.filter(case=complaint, sent_at__isnull=True).count() == 2


def test_queueing_kicks_delivery_only_after_commit(
    complaint, cast, django_capture_on_commit_callbacks
):
    with mock.patch("notifications.tasks.deliver_pending.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            queue(complaint, recipient_user=cast.alice, subject="s", body="b")
            delay.assert_not_called()
        assert len(callbacks) == 1
        delay.assert_called_once_with()


def test_a_broker_outage_does_not_undo_the_change(
    complaint, cast, django_capture_on_commit_callbacks
):
    with (
        mock.patch("notifications.tasks.deliver_pending.delay", side_effect=OSError("no broker")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        act(complaint, "accept", by=cast.ken)

    assert Notification.objects.filter(case=complaint, sent_at__isnull=True).count() == 2


def test_nothing_is_queued_without_a_phone_or_an_account(complaint):
    assert queue(complaint, subject="s", body="b") == []
