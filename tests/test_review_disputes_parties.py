"""Review of the authority disputes (管辖争议, o121 Art. 33) and the joint complaints (共同投诉,
委托代理人, o121 Arts. 11-12) that landed together: the defects found, each pinned by a test
that failed before its fix, and the checks that held, kept as regressions.

Every refusal has its success twin, so a broken fixture cannot make a refusal pass.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cases.models import Case, CaseEvent, ClockKind, Deadline
from cases.services import InvalidAction, perform
from cases.workflow import allowed_actions
from notifications.models import Notification
from parties.models import CoComplainant
from supervision.sweeps import sweep_deadlines
from tests.test_authority_dispute import act as settle_case
from tests.test_intake_api import complaint_body
from tests.test_joint_complaints import (  # noqa: F401 (media_and_cache: an autouse fixture)
    ZHAO_ID,
    counts,
    file_joint,
    media_and_cache,
    person,
    refused,
)
from tests.test_workflow_factory import at, frozen, make_case

REASON = "被投诉人实际经营地在上城区"
ALICE_ID = "110101199003070011"  # cast.alice's own ID number (tests.conftest)


def act(number: str, action: str, by: Any, **params: Any) -> Case:
    return perform(Case.objects.get(number=number), action, by=by, **params)


# --- The department named in a dispute sees only what it must ---------------------------------


def test_the_named_department_sees_the_complaint_but_not_its_co_complainants_nor_agent(api, cast):
    created = file_joint(api, cast)
    number, document = created["number"], created["agent"]["power_of_attorney"]
    act(number, "dispute", cast.ken, department="330102", reason=REASON)

    response = api.as_user(cast.nick).get(f"/api/v1/cases/{number}")

    assert response.status_code == 200  # it reads the case to agree or refuse
    case = response.json()
    assert case["allowed_actions"] == ["agree", "refuse"]
    assert case["co_complainants"] is None and case["agent"] is None
    assert document["id"] not in [item["id"] for item in case["attachments"]]
    assert "赵六" not in response.content.decode() and "钱律师" not in response.content.decode()
    assert api.as_user(cast.nick).get(document["url"]).status_code == 404


def test_the_named_department_sees_the_complainant_s_address_masked(api, cast):
    number = file_joint(api, cast)["number"]
    act(number, "dispute", cast.ken, department="330102", reason=REASON)
    address = Case.objects.get(number=number).party_address

    named = api.as_user(cast.nick).get(f"/api/v1/cases/{number}").json()["party"]
    holder = api.as_user(cast.ken).get(f"/api/v1/cases/{number}").json()["party"]
    above = api.as_user(cast.cathy).get(f"/api/v1/cases/{number}").json()["party"]

    assert named["address"] == f"{address[:6]}****" and named["phone"] == "138****0001"
    assert holder["address"] == address and holder["phone"] == "13800000001"
    assert above["address"] == address


def test_the_holder_and_the_common_superior_still_see_the_parties_during_a_dispute(api, cast):
    created = file_joint(api, cast)
    number, document = created["number"], created["agent"]["power_of_attorney"]
    act(number, "dispute", cast.ken, department="330102", reason=REASON)

    for officer in (cast.ken, cast.cathy):
        case = api.as_user(officer).get(f"/api/v1/cases/{number}").json()
        assert [p["name"] for p in case["co_complainants"]] == ["赵六", "孙七"]
        assert case["agent"]["name"] == "钱律师"
        assert api.as_user(officer).get(document["url"]).status_code == 200


def test_the_named_departments_workbench_page_shows_no_parties(client, api, cast):
    number = file_joint(api, cast)["number"]
    act(number, "dispute", cast.ken, department="330102", reason=REASON)
    client.force_login(cast.nick)

    html = client.get(f"/staff/cases/{number}/").content.decode()

    assert "不同意管辖" in html  # the page it acts on
    assert "共同投诉人与代理人" not in html and "赵六" not in html and "钱律师" not in html


def test_once_the_named_department_agreed_it_holds_the_case_and_sees_the_parties(api, cast):
    number = file_joint(api, cast)["number"]
    act(number, "dispute", cast.ken, department="330102", reason=REASON)
    act(number, "agree", cast.nick)

    case = api.as_user(cast.nick).get(f"/api/v1/cases/{number}").json()

    assert [p["phone"] for p in case["co_complainants"]] == ["13900000011", "13900000012"]


# --- A settled question of competence stays settled -------------------------------------------


def test_a_department_that_agreed_cannot_dispute_back_nor_transfer_the_case_away(cast, api):
    number = file_joint(api, cast)["number"]
    act(number, "dispute", cast.ken, department="330102", reason=REASON)
    act(number, "agree", cast.nick)

    for action in ("dispute", "transfer"):
        with pytest.raises(InvalidAction) as refused_action:
            act(number, action, cast.nick, department="330106", reason="不属本区")
        assert "报请上级部门" in refused_action.value.message
    case = Case.objects.get(number=number)
    assert case.department_id == "330102" and case.disputed_with_id is None
    assert allowed_actions(case, cast.nick) == ["accept", "reject", "escalate"]


def test_a_designated_department_cannot_dispute_again_nor_transfer(cast, api):
    number = file_joint(api, cast)["number"]
    act(number, "dispute", cast.ken, department="330102", reason=REASON)
    act(number, "refuse", cast.nick, reason="经营者住所地在西湖区")
    act(number, "designate", cast.cathy, department="330106", reason="住所地在西湖区")

    for action in ("dispute", "transfer"):
        with pytest.raises(InvalidAction):
            act(number, action, cast.ken, department="330102", reason=REASON)
    assert allowed_actions(Case.objects.get(number=number), cast.ken) == [
        "accept",
        "reject",
        "escalate",
    ]
    assert not CaseEvent.objects.filter(case__number=number, action="transfer").exists()


def test_a_holder_that_withdrew_its_dispute_may_still_transfer(cast, api):
    number = file_joint(api, cast)["number"]
    act(number, "dispute", cast.ken, department="330102", reason=REASON)
    act(number, "withdraw_dispute", cast.ken)

    moved = act(number, "transfer", cast.ken, department="330102", reason=REASON)

    assert moved.department_id == "330102"


def test_once_the_case_left_the_department_it_was_settled_on_it_may_move_again(cast, api):
    """The designation binds the department designated: a case it escalated and the city sent
    on elsewhere is that department's to route as any other."""
    number = file_joint(api, cast)["number"]
    act(number, "dispute", cast.ken, department="330102", reason=REASON)
    act(number, "agree", cast.nick)
    act(number, "escalate", cast.nick, reason="请上级确定管辖")
    act(number, "dispatch", cast.cathy, department="330106")

    moved = act(number, "transfer", cast.ken, department="330102", reason=REASON)

    assert moved.department_id == "330102"


# --- Bad input on the joint complaint ---------------------------------------------------------


def test_the_filer_listed_under_their_own_id_number_is_refused(api, cast):
    body = complaint_body(co_complainants=[person("张爱丽", "13900000013", id_number=ALICE_ID)])

    fields = refused(api, cast.alice, body)

    assert fields == {"co_complainants": ["投诉人本人无需列为共同投诉人。"]}


def test_someone_else_s_id_number_is_no_repeat_of_the_filer(api, cast):
    body = complaint_body(co_complainants=[person(id_number=ZHAO_ID)])
    response = api.as_user(cast.alice).post_json("/api/v1/complaints", body)
    assert response.status_code == 201, response.content


def test_one_phone_written_with_and_without_its_dash_is_one_person(api, cast):
    body = complaint_body(
        co_complainants=[person(phone="0571-88880001"), person("孙七", "057188880001")]
    )

    fields = refused(api, cast.alice, body)

    assert fields == {"co_complainants": ["共同投诉人有重复（电话或身份证号码相同）。"]}


def test_two_landlines_that_differ_are_two_people(api, cast):
    body = complaint_body(
        co_complainants=[person(phone="0571-88880001"), person("孙七", "0571-88880002")]
    )
    response = api.as_user(cast.alice).post_json("/api/v1/complaints", body)
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("parties", "field"),
    [
        ({"co_complainants": "赵六"}, "co_complainants"),
        ({"co_complainants": [1]}, "co_complainants.0"),
        ({"co_complainants": [None]}, "co_complainants.0"),
        ({"co_complainants": [{"real_name": "赵六", "phone": 13900000011}]}, "phone"),
        ({"co_complainants": [person(consent="true")]}, "consent"),
        ({"co_complainants": [person(representative=1)]}, "representative"),
        ({"co_complainants": [person(name="赵" * 10_000)]}, "co_complainants.0.real_name"),
        ({"co_complainants": [person(id_number="1" * 5_000)]}, "co_complainants.0.id_number"),
        ({"co_complainants": [person(), person()]}, "co_complainants"),
        ({"agent": "钱律师"}, "agent"),
        ({"agent": ["钱律师"]}, "agent"),
        ({"co_complainants": ["赵六"]}, "co_complainants.0"),
        ({"respondent": "杭州好运来电器有限公司"}, "respondent"),
        ({"agent": {"real_name": "钱律师", "phone": "13900000099"}}, "agent.power_of_attorney"),
        (
            {"agent": {"real_name": "钱", "phone": "13900000099", "power_of_attorney": 7}},
            "power_of_attorney",
        ),
        (
            {"agent": {"real_name": "钱", "phone": "1390", "power_of_attorney": "x" * 5000}},
            "agent.power_of_attorney",
        ),
    ],
)
def test_wrong_types_huge_values_and_repeats_are_refused_in_the_error_shape(
    api, cast, parties, field
):
    before = counts()
    response = api.as_user(cast.alice).post_json("/api/v1/complaints", complaint_body(**parties))

    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["message"]
    assert any(field in name for name in error["fields"]), error["fields"]
    assert counts() == before
    assert not CoComplainant.objects.exists()


def test_an_agent_written_as_text_is_refused_not_dropped(api, cast):
    """ninja read a string where an object belongs as an object with nothing set: the
    complaint was filed (201) without its agent, and nobody was told."""
    body = complaint_body(agent="钱律师，电话13900000099")

    fields = refused(api, cast.alice, body)

    assert fields == {"agent": ["应为 JSON 对象。"]}


# --- Clocks ------------------------------------------------------------------------------------


def test_the_settling_clock_ends_with_a_consumer_withdrawal_and_the_named_department_loses_sight(
    api, cast
):
    number = file_joint(api, cast)["number"]
    act(number, "dispute", cast.ken, department="330102", reason=REASON)

    act(number, "withdraw", cast.alice)

    open_clocks = Deadline.objects.filter(case__number=number, met_at__isnull=True, cancelled=False)
    assert not open_clocks.filter(kind=ClockKind.SETTLE_AUTHORITY).exists()
    assert api.as_user(cast.nick).get(f"/api/v1/cases/{number}").status_code == 404
    assert api.as_user(cast.ken).get(f"/api/v1/cases/{number}").status_code == 200


def test_a_department_that_refused_is_not_told_again_that_its_answer_is_due(cast, tree):
    complaint = make_case(department=tree.county, consumer=cast.alice, respondent=cast.shop)
    settle_case(complaint, "dispute", cast.ken, department="330102", reason=REASON)
    settle_case(complaint, "refuse", cast.nick, reason="经营者住所地在西湖区")
    soon = dt.date(2026, 6, 8)  # two working days before the settling clock's 10 June

    with frozen(at(soon, 1)):
        sweep_deadlines(today=soon)

    told = Notification.objects.filter(case=complaint, subject__startswith="期限临近")
    assert told.filter(recipient=cast.ken).exists()  # the twin: the sweep did tell
    assert not told.filter(recipient=cast.nick).exists()
