"""E-mail notifications: queued only for an account with an address, delivered through Django's
mail framework (locmem `mail.outbox` in tests), retried like SMS, and used for staff alerts when
the person's alert preference allows it."""

from __future__ import annotations

import datetime as dt
import smtplib
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from cases.models import Case
from notifications.models import Channel, Notification
from notifications.outbox import queue
from notifications.tasks import deliver_one, deliver_pending
from supervision.alerts import alert_channels, clock_due_soon
from supervision.models import AlertPreference
from tests.test_workflow_factory import make_case

KEN_EMAIL = "ken@xihu.example.gov.cn"
HELEN_EMAIL = "helen@xihu.example.gov.cn"


@pytest.fixture
def complaint(cast, tree) -> Case:
    return make_case(department=tree.county, consumer=cast.alice, respondent=cast.shop)


def give_email(user, address: str):
    user.email = address
    user.save(update_fields=["email"])
    return user


def email_rows():
    return Notification.objects.filter(channel=Channel.EMAIL)


# --- Queueing ---------------------------------------------------------------------------------


def test_an_email_is_queued_for_an_account_with_an_address(complaint, cast):
    ken = give_email(cast.ken, KEN_EMAIL)

    rows = queue(complaint, recipient_user=ken, subject="主题", body="正文", channels=["email"])

    assert [(row.channel, row.recipient) for row in rows] == [(Channel.EMAIL, ken)]
    assert email_rows().count() == 1


def test_no_email_is_queued_for_an_account_without_an_address(complaint, cast):
    assert cast.helen.email == ""

    rows = queue(
        complaint, recipient_user=cast.helen, subject="主题", body="正文", channels=["email"]
    )

    assert rows == []
    assert not email_rows().exists()


def test_no_email_is_queued_without_an_account(complaint):
    assert queue(complaint, phone="13900000009", subject="s", body="b", channels=["email"]) == []


def test_the_default_channels_still_leave_email_out(complaint, cast):
    alice = give_email(cast.alice, "alice@example.com")

    rows = queue(complaint, recipient_user=alice, phone=alice.phone, subject="s", body="b")

    assert sorted(row.channel for row in rows) == [Channel.INAPP, Channel.SMS]


# --- Delivery ---------------------------------------------------------------------------------


def test_delivery_sends_the_email_to_the_account_and_marks_it_sent(complaint, cast, settings):
    settings.DEFAULT_FROM_EMAIL = "Open12315 <noreply@12315.example.cn>"
    ken = give_email(cast.ken, KEN_EMAIL)
    queue(
        complaint, recipient_user=ken, subject="期限临近", body="请及时办理。", channels=["email"]
    )

    assert deliver_pending() == 1
    assert deliver_pending() == 0

    (message,) = mail.outbox
    assert message.to == [KEN_EMAIL]
    assert (message.subject, message.body) == ("期限临近", "请及时办理。")
    assert message.from_email == "Open12315 <noreply@12315.example.cn>"
    row = email_rows().get()
    assert row.sent_at is not None and row.last_error == ""


def test_the_address_on_the_account_at_delivery_time_is_used(complaint, cast):
    ken = give_email(cast.ken, "old@example.com")
    queue(complaint, recipient_user=ken, subject="s", body="b", channels=["email"])
    give_email(ken, KEN_EMAIL)

    deliver_pending()

    assert mail.outbox[0].to == [KEN_EMAIL]


def test_a_failed_email_is_kept_with_its_error_and_retried_later(complaint, cast):
    ken = give_email(cast.ken, KEN_EMAIL)
    (row,) = queue(complaint, recipient_user=ken, subject="s", body="b", channels=["email"])

    down = smtplib.SMTPServerDisconnected("connection unexpectedly closed")
    with mock.patch("notifications.tasks.send_mail", side_effect=down):
        assert deliver_one(row.pk) is False
    row.refresh_from_db()
    assert (row.sent_at, row.attempts) == (None, 1)
    assert row.last_error == "connection unexpectedly closed"
    assert deliver_one(row.pk) is False  # backing off

    later = timezone.now() + dt.timedelta(minutes=2)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert deliver_one(row.pk) is True
    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 2
    assert len(mail.outbox) == 1


def test_an_account_that_lost_its_address_fails_the_row_instead_of_marking_it_sent(complaint, cast):
    ken = give_email(cast.ken, KEN_EMAIL)
    (row,) = queue(complaint, recipient_user=ken, subject="s", body="b", channels=["email"])
    give_email(ken, "")

    assert deliver_one(row.pk) is False

    row.refresh_from_db()
    assert row.sent_at is None and "no e-mail address" in row.last_error
    assert mail.outbox == []


# --- Staff alerts -----------------------------------------------------------------------------


def test_a_due_soon_alert_is_emailed_to_staff_with_an_address(complaint, cast):
    give_email(cast.ken, KEN_EMAIL)

    clock_due_soon(complaint.deadlines.get())
    deliver_pending()

    rows = email_rows()
    assert list(rows.values_list("recipient__username", flat=True)) == ["ken"]
    (message,) = mail.outbox
    assert message.to == [KEN_EMAIL]
    assert complaint.number in message.subject and complaint.number in message.body


def test_no_alert_email_when_the_preference_turns_it_off(complaint, cast):
    give_email(cast.ken, KEN_EMAIL)
    give_email(cast.helen, HELEN_EMAIL)
    AlertPreference.objects.create(user=cast.helen, by_email=False)

    clock_due_soon(complaint.deadlines.get())

    assert list(email_rows().values_list("recipient__username", flat=True)) == ["ken"]
    inapp = Notification.objects.filter(channel=Channel.INAPP)
    assert sorted(inapp.values_list("recipient__username", flat=True)) == ["helen", "ken"]


def test_turning_sms_off_leaves_email_on_and_the_other_way_round(cast):
    ken = give_email(cast.ken, KEN_EMAIL)
    ken.phone = "13900000101"
    ken.save(update_fields=["phone"])
    preference = AlertPreference.objects.create(user=ken, by_sms=False)

    assert alert_channels(ken) == [Channel.INAPP, Channel.EMAIL]

    preference.by_sms, preference.by_email = True, False
    preference.save()
    assert alert_channels(ken) == [Channel.INAPP, Channel.SMS]
