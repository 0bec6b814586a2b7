"""Security review: what the parties are told, and how. A consumer who turned SMS off on their
profile ("案件有新进展时发短信通知我") is told in the portal only; a caller without an account (a
hotline case) can only be reached by SMS; nobody is told in a station's name."""

from __future__ import annotations

from accounts.models import User
from cases.models import Case
from cases.services import perform
from notifications.models import Notification
from tests.test_workflow_factory import (  # noqa: F401 (an autouse fixture)
    O121_DAY,
    frozen,
    make_case,
)


def accept(case: Case, by) -> Case:
    with frozen(O121_DAY):
        return perform(case, "accept", by=by, handler_unit="330106001")


def told(case: Case) -> list[tuple[str, int | None, str]]:
    rows = Notification.objects.filter(case=case).order_by("channel")
    return [(row.channel, row.recipient_id, row.phone) for row in rows]


def test_a_consumer_who_turned_sms_off_is_told_in_the_portal_only(cast, tree):
    User.objects.filter(pk=cast.alice.pk).update(notify_sms=False)
    case = make_case(department=tree.county, consumer=User.objects.get(pk=cast.alice.pk))

    accept(case, cast.ken)

    assert told(case) == [("inapp", cast.alice.pk, "")]


def test_a_consumer_with_sms_on_is_told_by_sms_and_in_the_portal(cast, tree):
    case = make_case(department=tree.county, consumer=cast.alice)

    accept(case, cast.ken)

    assert told(case) == [
        ("inapp", cast.alice.pk, "13800000001"),
        ("sms", cast.alice.pk, "13800000001"),
    ]


def test_a_hotline_caller_without_an_account_is_told_by_sms(cast, tree):
    case = make_case(department=tree.county, consumer=None)

    accept(case, cast.ken)

    assert told(case) == [("sms", None, "13900000009")]
    body = Notification.objects.get(case=case).body
    assert "杭州市西湖区市场监督管理局" in body and "文新" not in body
