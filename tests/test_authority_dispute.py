"""Authority disputes (管辖争议, o121 Art. 33): West Lake holds Shangcheng competent, Shangcheng
agrees or refuses, and once it refused or the 7 working days passed the city, above both,
designates. Through `perform`, the JSON API, the workbench pages, the sweep and the rollups.

Every refusal has its success twin: the same step succeeds for the right person at the right
time, so a broken fixture cannot make a refusal pass.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from cases.models import Case, CaseEvent, ClockKind, Deadline, Kind, Status, Visibility
from cases.services import InvalidAction, InvalidParams, perform
from cases.workflow import allowed_actions
from departments.models import Department, Level
from notifications.models import Notification
from supervision.models import OrderKind, SupervisionOrder
from supervision.sweeps import sweep_deadlines
from tests.conftest import make_department
from tests.test_rollups import (
    PERIODS,
    UNITS,
    assert_the_rollups_are_exact,
    by_phone,
    do,
    file,
    when,
)
from tests.test_workflow_factory import (  # noqa: F401 (an autouse fixture)
    O20_DAY,
    O121_DAY,
    at,
    frozen,
    make_case,
)
from workdays.calendar import add_working_days, working_days_between

MONDAY = O121_DAY.date()  # 1 June 2026
SETTLE_DUE = dt.date(2026, 6, 10)  # the 7th working day after Monday 1 June
REASON = "被投诉人实际经营地在上城区"


def act(case: Case, action: str, by: User, day: dt.date = MONDAY, **params: Any) -> Case:
    with frozen(at(day)):
        return perform(Case.objects.get(pk=case.pk), action, by=by, **params)


def clock(case: Case, kind: str = ClockKind.ACCEPT, **filters: Any) -> Deadline:
    return Deadline.objects.filter(case=case, kind=kind, **filters).order_by("-pk").first()


@pytest.fixture
def complaint(cast, tree) -> Case:
    return make_case(department=tree.county, consumer=cast.alice, respondent=cast.shop)


@pytest.fixture
def disputed(cast, complaint) -> Case:
    return act(complaint, "dispute", cast.ken, department="330102", reason=REASON)


# --- Raising a dispute ------------------------------------------------------------------------


def test_a_dispute_names_the_other_county_pauses_the_accept_clock_and_starts_seven_days(
    cast, disputed
):
    assert disputed.status == Status.SUBMITTED
    assert (disputed.department_id, disputed.disputed_with_id) == ("330106", "330102")
    accept = clock(disputed)
    assert accept.paused_since == MONDAY and accept.is_open
    settle = clock(disputed, ClockKind.SETTLE_AUTHORITY)
    assert (settle.department_id, settle.started_on, settle.due) == ("330106", MONDAY, SETTLE_DUE)
    event = disputed.events.get(action="dispute")
    assert event.visibility == Visibility.INTERNAL
    assert event.note == REASON
    assert event.data == {"department": "330102", "superior": "330100"}


def test_the_named_department_is_told_at_once_and_the_holder_is_not(cast, disputed):
    told = Notification.objects.filter(case=disputed, subject__startswith="管辖争议")
    assert told.filter(recipient=cast.nick).exists()
    assert not told.filter(recipient=cast.ken).exists()


def test_a_dispute_needs_a_reason(cast, complaint):
    with pytest.raises(InvalidParams) as refused:
        act(complaint, "dispute", cast.ken, department="330102")

    assert refused.value.fields == {"reason": ["此项为必填项。"]}
    assert Case.objects.get(pk=complaint.pk).disputed_with_id is None
    assert not Deadline.objects.filter(case=complaint, kind=ClockKind.SETTLE_AUTHORITY).exists()


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("330106", "应为本部门以外、与本部门互不隶属的县级市场监管部门。"),  # itself
        ("330106001", "应为本部门以外、与本部门互不隶属的县级市场监管部门。"),  # its own station
        ("330100", "应为本部门以外、与本部门互不隶属的县级市场监管部门。"),  # not county-level
        ("999999", "没有这个部门。"),
    ],
)
def test_the_named_department_must_be_another_county(cast, complaint, code, message):
    with pytest.raises(InvalidParams) as refused:
        act(complaint, "dispute", cast.ken, department=code, reason=REASON)

    assert refused.value.fields == {"department": [message]}


def test_an_inactive_county_cannot_be_named(cast, tree, complaint):
    Department.objects.filter(code="330102").update(is_active=False)

    with pytest.raises(InvalidParams):
        act(complaint, "dispute", cast.ken, department="330102", reason=REASON)


def test_a_station_named_stands_for_its_county(cast, complaint):
    disputed = act(complaint, "dispute", cast.ken, department="330102001", reason=REASON)

    assert disputed.disputed_with_id == "330102"


def test_a_second_dispute_while_one_is_open_is_refused_with_the_reason(cast, disputed):
    with pytest.raises(InvalidAction) as refused:
        act(disputed, "dispute", cast.ken, department="330102", reason=REASON)

    assert "尚未解决的管辖争议" in refused.value.message
    assert refused.value.allowed_actions == ["withdraw_dispute"]


def test_the_holder_cannot_accept_or_transfer_while_the_dispute_is_open(cast, disputed):
    for action, params in (("accept", {}), ("transfer", {"department": "330102", "reason": "x"})):
        with pytest.raises(InvalidAction) as refused:
            act(disputed, action, cast.ken, **params)
        assert "先撤回争议" in refused.value.message


def test_only_intake_of_the_holder_raises_a_dispute(cast, complaint):
    for officer in (cast.helen, cast.nick, cast.cathy, cast.sam):
        with pytest.raises(InvalidAction):
            act(complaint, "dispute", officer, department="330102", reason=REASON)
    assert act(complaint, "dispute", cast.ken, department="330102", reason=REASON).disputed_with


def test_a_report_can_be_disputed_too_and_a_consultation_cannot(cast, tree):
    report = make_case(kind=Kind.REPORT, department=tree.county, consumer=cast.alice)
    question = make_case(kind=Kind.CONSULTATION, department=tree.county, consumer=cast.alice)

    assert act(report, "dispute", cast.ken, department="330102", reason=REASON).disputed_with
    with pytest.raises(InvalidParams):
        act(question, "dispute", cast.ken, department="330102", reason=REASON)


def test_an_o20_case_follows_the_same_steps(cast, tree):
    old = make_case(department=tree.county, consumer=cast.alice, received_at=O20_DAY)
    day = O20_DAY.date()

    act(old, "dispute", cast.ken, day, department="330102", reason=REASON)
    moved = act(old, "agree", cast.nick, day)

    assert (moved.rules, moved.department_id) == ("o20", "330102")


# --- The named department answers -------------------------------------------------------------


def test_agreeing_moves_the_case_there_with_a_new_accept_clock(cast, disputed):
    wednesday = MONDAY + dt.timedelta(days=2)

    moved = act(disputed, "agree", cast.nick, wednesday, note="确属本区管辖")

    assert (moved.department_id, moved.disputed_with_id, moved.status) == (
        "330102",
        None,
        Status.SUBMITTED,
    )
    assert clock(moved, ClockKind.SETTLE_AUTHORITY).met_at is not None
    old, new = Deadline.objects.filter(case=moved, kind=ClockKind.ACCEPT).order_by("pk")
    assert old.cancelled and old.department_id == "330106"
    assert (new.department_id, new.started_on, new.due) == (
        "330102",
        wednesday,
        add_working_days(wednesday, 7),
    )
    assert moved.events.get(action="agree").data == {"from": "330106", "department": "330102"}
    assert allowed_actions(moved, cast.nick)[:2] == ["accept", "reject"]
    assert not Case.objects.filter(pk=moved.pk, department="330106").exists()


def test_refusing_keeps_the_dispute_open_for_the_superior_and_tells_it(cast, disputed):
    refused = act(disputed, "refuse", cast.nick, reason="经营者住所地在西湖区")

    assert refused.dispute_refused and refused.disputed_with_id == "330102"
    assert clock(refused, ClockKind.SETTLE_AUTHORITY).is_open  # running until designation
    told = Notification.objects.filter(case=refused, subject__startswith="待指定管辖")
    assert told.filter(recipient=cast.cathy).exists()
    with pytest.raises(InvalidAction) as again:
        act(refused, "agree", cast.nick)
    assert "等待共同上级部门指定管辖" in again.value.message


def test_only_the_named_departments_intake_answers(cast, disputed):
    for officer in (cast.ken, cast.cathy, cast.helen):
        with pytest.raises(InvalidAction):
            act(disputed, "agree", officer)
    assert act(disputed, "agree", cast.nick).department_id == "330102"


def test_withdrawing_keeps_the_case_and_resumes_the_accept_clock(cast, disputed):
    monday_after = MONDAY + dt.timedelta(days=7)
    due_before = clock(disputed).due

    kept = act(disputed, "withdraw_dispute", cast.ken, monday_after, reason="已核实属本局管辖")

    assert (kept.department_id, kept.disputed_with_id) == ("330106", None)
    assert clock(kept, ClockKind.SETTLE_AUTHORITY).cancelled
    accept = clock(kept)
    paused_days = working_days_between(MONDAY, monday_after)
    assert paused_days == 5
    assert (accept.paused_since, accept.due) == (None, add_working_days(due_before, paused_days))
    assert act(kept, "accept", cast.ken, monday_after).status == Status.ACCEPTED


def test_the_consumer_withdrawing_ends_the_dispute(cast, disputed):
    closed = act(disputed, "withdraw", cast.alice, reason="已和解")

    assert (closed.status, closed.disputed_with_id) == (Status.CLOSED, None)
    assert not Deadline.objects.filter(case=closed, met_at__isnull=True, cancelled=False).exists()


# --- The common superior designates -----------------------------------------------------------


def test_designating_before_the_seven_days_pass_is_refused_with_the_reason(cast, disputed):
    with pytest.raises(InvalidAction) as refused:
        act(disputed, "designate", cast.cathy, SETTLE_DUE, department="330102", reason="依法指定")

    assert "届满后" in refused.value.message
    the_day_after = SETTLE_DUE + dt.timedelta(days=1)
    moved = act(
        disputed, "designate", cast.cathy, the_day_after, department="330102", reason="依法指定"
    )
    assert moved.department_id == "330102"


def test_designating_after_a_refusal_moves_the_case_with_a_new_accept_clock(cast, disputed):
    act(disputed, "refuse", cast.nick, reason="经营者住所地在西湖区")
    tuesday = MONDAY + dt.timedelta(days=1)

    moved = act(disputed, "designate", cast.cathy, tuesday, department="330102", reason="经营地")

    assert (moved.department_id, moved.disputed_with_id, moved.dispute_refused) == (
        "330102",
        None,
        False,
    )
    assert clock(moved, ClockKind.SETTLE_AUTHORITY).met_at is not None
    new = clock(moved, cancelled=False)
    assert (new.department_id, new.started_on) == ("330102", tuesday)
    event = moved.events.get(action="designate")
    assert event.data == {"department": "330102", "from": "330106", "superior": "330100"}
    assert event.visibility == Visibility.INTERNAL


def test_the_superior_may_designate_the_holder_itself(cast, disputed):
    act(disputed, "refuse", cast.nick, reason="不属本区")

    kept = act(disputed, "designate", cast.cathy, department="330106", reason="住所地在西湖区")

    assert (kept.department_id, kept.disputed_with_id) == ("330106", None)
    assert clock(kept, cancelled=False).started_on == MONDAY
    assert clock(kept, cancelled=False).paused_since is None


def test_the_designated_department_must_lie_below_the_superior(cast, tree, disputed):
    ningbo = make_department("330200", "宁波市", Level.CITY, tree.province)
    make_department("330203", "海曙区", Level.COUNTY, ningbo)
    act(disputed, "refuse", cast.nick, reason="不属本区")

    with pytest.raises(InvalidParams) as refused:
        act(disputed, "designate", cast.cathy, department="330203", reason="指定")

    assert refused.value.fields == {"department": ["应指定本部门辖区内的县级市场监管部门。"]}


def test_the_superior_is_the_lowest_department_above_both(cast, tree, complaint):
    ningbo = make_department("330200", "宁波市", Level.CITY, tree.province)
    make_department("330203", "海曙区", Level.COUNTY, ningbo)
    disputed = act(complaint, "dispute", cast.ken, department="330203", reason=REASON)
    act(disputed, "refuse", _ningbo_intake(), reason="不属本区")

    with frozen(O121_DAY):
        fresh = Case.objects.get(pk=disputed.pk)
        assert "designate" not in allowed_actions(fresh, cast.cathy)
        assert "designate" in allowed_actions(fresh, cast.paul)
    moved = act(disputed, "designate", cast.paul, department="330203", reason="指定")
    assert moved.department_id == "330203"


def _ningbo_intake() -> User:
    from accounts.services import create_staff

    return create_staff(
        username="nina",
        password="Open12315-test-pw",
        department=Department.objects.get(code="330203"),
        roles=["intake"],
        real_name="Nina",
    )


# --- Visibility and the public timeline -------------------------------------------------------


def test_the_consumer_sees_none_of_the_internal_steps(cast, api, disputed):
    act(disputed, "refuse", cast.nick, reason="不属本区")
    act(disputed, "designate", cast.cathy, department="330102", reason="经营地")

    body = api.as_user(cast.alice).get(f"/api/v1/cases/{disputed.number}").json()

    actions = [event["action"] for event in body["timeline"]]
    assert not {"dispute", "refuse", "designate"} & set(actions)
    assert CaseEvent.objects.filter(case=disputed, action__in=["dispute", "designate"]).count() == 2
    assert body["department"]["code"] == "330102"  # where it is now, as after a transfer


def test_the_consumer_is_not_shown_the_settling_clock(cast, api, disputed):
    body = api.as_user(cast.alice).get(f"/api/v1/cases/{disputed.number}").json()

    assert "settle_authority" not in [item["kind"] for item in body["deadlines"]]


def test_the_named_officer_sees_the_case_while_the_dispute_is_open(cast, api, disputed):
    client = api.as_user(cast.nick)

    found = client.get(f"/api/v1/cases/{disputed.number}")
    assert found.status_code == 200
    assert found.json()["allowed_actions"] == ["agree", "refuse"]

    act(disputed, "withdraw_dispute", cast.ken)
    assert client.get(f"/api/v1/cases/{disputed.number}").status_code == 404


def test_the_named_officer_lists_the_case_as_staff(cast, api, disputed):
    rows = api.as_user(cast.nick).get("/api/v1/cases").json()["results"]

    row = next(row for row in rows if row["number"] == disputed.number)
    assert row["is_major"] is False  # the staff row (the public one says None)
    assert row["department"]["code"] == disputed.department.code
    assert "settle_authority" in [item["kind"] for item in row["deadlines"]]


# --- The JSON API -----------------------------------------------------------------------------


def test_the_api_takes_the_whole_dispute_and_answers_errors_in_its_shape(cast, api, complaint):
    url = f"/api/v1/cases/{complaint.number}/actions"
    with frozen(O121_DAY):
        missing = api.as_user(cast.ken).post_json(
            url, {"action": "dispute", "department": "330102"}
        )
        raised = api.as_user(cast.ken).post_json(
            url, {"action": "dispute", "department": "330102", "reason": REASON}
        )
        early = api.as_user(cast.cathy).post_json(
            url, {"action": "designate", "department": "330102", "reason": "指定"}
        )
        refused = api.as_user(cast.nick).post_json(url, {"action": "refuse", "reason": "不属本区"})
        designated = api.as_user(cast.cathy).post_json(
            url, {"action": "designate", "department": "330102", "reason": "指定"}
        )

    assert missing.status_code == 422
    assert missing.json()["error"]["fields"] == {"reason": ["此项为必填项。"]}
    assert raised.status_code == 200 and raised.json()["allowed_actions"] == ["withdraw_dispute"]
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "invalid_action"
    assert "届满后" in early.json()["error"]["message"]
    assert refused.status_code == 200
    assert designated.status_code == 200
    assert designated.json()["department"]["code"] == "330102"


# --- The sweep --------------------------------------------------------------------------------


def test_an_unanswered_dispute_goes_overdue_and_the_superior_chases_the_named_department(
    api, cast, disputed
):
    the_day_after = SETTLE_DUE + dt.timedelta(days=1)
    with frozen(at(the_day_after, 1)):
        sweep_deadlines(today=the_day_after)

    settle = clock(disputed, ClockKind.SETTLE_AUTHORITY)
    assert settle.overdue
    assert not clock(disputed).overdue  # the paused accept clock is not running
    order = SupervisionOrder.objects.get(deadline=settle, kind=OrderKind.OVERDUE)
    # The named department owes the answer; the common superior (the city) chases it.
    assert (order.from_department_id, order.to_department_id) == ("330100", "330102")
    answered = api.as_user(cast.nick).post_json(
        f"/api/v1/supervision/orders/{order.pk}/respond", {"note": "已在协商，将于今日答复。"}
    )
    assert answered.status_code == 200  # the named department can see the case and answer
    with frozen(at(the_day_after)):
        assert "designate" in allowed_actions(Case.objects.get(pk=disputed.pk), cast.cathy)


def test_after_a_refusal_the_overdue_settling_clock_chases_the_common_superior(cast, disputed):
    act(disputed, "refuse", cast.nick, dt.date(2026, 6, 3), reason="不属本区管辖")
    the_day_after = SETTLE_DUE + dt.timedelta(days=1)
    with frozen(at(the_day_after, 1)):
        sweep_deadlines(today=the_day_after)

    settle = clock(disputed, ClockKind.SETTLE_AUTHORITY)
    order = SupervisionOrder.objects.get(deadline=settle, kind=OrderKind.OVERDUE)
    # The designation is owed by the city, chased by the province above it.
    assert (order.from_department_id, order.to_department_id) == ("330000", "330100")


def test_the_named_department_is_told_when_the_holder_withdraws_the_dispute(cast, disputed):
    act(disputed, "withdraw_dispute", cast.ken, dt.date(2026, 6, 3))

    told = Notification.objects.filter(case=disputed, subject__startswith="管辖争议已结束")
    assert told.filter(recipient=cast.nick, body__contains="已撤回").exists()
    assert not told.filter(recipient=cast.cathy).exists()  # no designation was asked of it


def test_when_the_case_closes_the_named_department_and_the_superior_are_told(cast, disputed):
    act(disputed, "refuse", cast.nick, dt.date(2026, 6, 3), reason="不属本区管辖")
    act(disputed, "withdraw", cast.alice, dt.date(2026, 6, 4), reason="已与商家和解")

    told = Notification.objects.filter(case=disputed, subject__startswith="管辖争议已结束")
    assert told.filter(recipient=cast.nick, body__contains="已办结").exists()
    assert told.filter(recipient=cast.cathy, body__contains="已办结").exists()


def test_the_named_department_is_told_when_its_answer_is_due_soon(cast, disputed):
    soon = dt.date(2026, 6, 8)  # two working days before 10 June
    with frozen(at(soon, 1)):
        sweep_deadlines(today=soon)

    told = Notification.objects.filter(case=disputed, subject__startswith="期限临近")
    assert told.filter(recipient=cast.nick).exists()
    assert told.filter(recipient=cast.ken).exists()


# --- The rollups ------------------------------------------------------------------------------


def test_the_rollups_stay_exact_through_disputes(cast, tree):
    moment = when(dt.date(2026, 6, 1))
    agreed = file(cast.hank, "complaint", by_phone("330106", moment), moment)
    designated = file(cast.hank, "report", by_phone("330106", moment), moment)
    withdrawn = file(cast.hank, "complaint", by_phone("330106", moment), moment)
    left = file(cast.hank, "complaint", by_phone("330106", moment), moment)
    for case in (agreed, designated, withdrawn, left):
        do(case, "dispute", cast.ken, when(dt.date(2026, 6, 2)), department="330102", reason="x")
    do(agreed, "agree", cast.nick, when(dt.date(2026, 6, 3)))
    do(agreed, "accept", cast.nick, when(dt.date(2026, 6, 4)), handler_unit="330102001")
    do(designated, "refuse", cast.nick, when(dt.date(2026, 6, 3)), reason="不属本区")
    do(designated, "designate", cast.cathy, when(dt.date(2026, 6, 4)), department="330102",
       reason="指定")  # fmt: skip
    do(withdrawn, "withdraw_dispute", cast.ken, when(dt.date(2026, 6, 5)))
    do(withdrawn, "accept", cast.ken, when(dt.date(2026, 6, 5)))
    with frozen(when(dt.date(2026, 6, 12), 1)):
        sweep_deadlines(today=dt.date(2026, 6, 12))  # `left`'s settling clock goes overdue

    assert Deadline.objects.filter(case=left, kind=ClockKind.SETTLE_AUTHORITY, overdue=True)
    assert_the_rollups_are_exact([*UNITS, "330102"], PERIODS)


# --- The workbench ----------------------------------------------------------------------------


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_action(client: Client, case: Case, action: str, **params: Any):
    data = {"action": action, "version": Case.objects.get(pk=case.pk).version, **params}
    return client.post(reverse("staff:act", args=[case.number]), data)


def forms_on(response) -> set[str]:
    return set(re.findall(r'name="action" value="([a-z_]+)"', response.content.decode()))


def test_the_whole_dispute_through_the_workbench(cast, complaint):
    ken, nick, cathy = signed_in(cast.ken), signed_in(cast.nick), signed_in(cast.cathy)
    page = reverse("staff:case", args=[complaint.number])
    disputes = reverse("staff:queue", args=["disputes"])
    with frozen(O121_DAY):
        form = ken.get(page).content.decode()
        assert "认为有管辖权的部门" in form and 'id="id_dispute_department"' in form

        missing = post_action(ken, complaint, "dispute", department="330102")
        assert missing.status_code == 422
        assert "这个字段是必填项。" in missing.content.decode()
        assert Case.objects.get(pk=complaint.pk).disputed_with_id is None

        raised = post_action(ken, complaint, "dispute", department="330102", reason=REASON)
        assert raised.status_code == 302
        ken_page = ken.get(page).content.decode()
        assert "中止计时" in ken_page and "管辖协商期限" in ken_page
        assert forms_on(ken.get(page)) == {"withdraw_dispute"}

        listed = nick.get(disputes).content.decode()
        assert complaint.number in listed and "待上城区答复" in listed
        assert forms_on(nick.get(page)) == {"agree", "refuse"}
        assert post_action(nick, complaint, "refuse", reason="不属本区").status_code == 302

        waiting = cathy.get(disputes).content.decode()
        assert complaint.number in waiting and "待本单位指定管辖" in waiting
        designate = cathy.get(page).content.decode()
        assert "下一步：指定管辖" in designate
        select = designate.partition('id="id_designate_department"')[2]
        options = re.findall(r'<option value="(\d+)"', select)
        assert options[:2] == ["330106", "330102"]
        done = post_action(cathy, complaint, "designate", department="330102", reason="经营地")
        assert done.status_code == 302

    case = Case.objects.get(pk=complaint.pk)
    assert (case.department_id, case.disputed_with_id) == ("330102", None)
    with frozen(O121_DAY):
        assert complaint.number not in cathy.get(disputes).content.decode()
        assert forms_on(nick.get(page)) >= {"accept", "reject"}


def test_the_disputes_tab_counts_what_it_lists(cast, complaint, tree):
    other = make_case(department=tree.county, consumer=cast.bob)
    act(complaint, "dispute", cast.ken, department="330102", reason=REASON)
    with frozen(O121_DAY):
        for user, expected in ((cast.ken, 1), (cast.nick, 1), (cast.cathy, 1), (cast.sam, 0)):
            body = signed_in(user).get(reverse("staff:queue", args=["disputes"])).content.decode()
            count = re.search(r'管辖争议\s*<span class="wb-count">(\d+)</span>', body)
            assert count and int(count.group(1)) == expected, user
            assert (complaint.number in body) == bool(expected)
            assert other.number not in body
