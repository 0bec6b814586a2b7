"""`POST /api/v1/cases/{number}/actions`: the HTTP face of `perform`, and who may reach a case."""

from __future__ import annotations

import datetime as dt

import pytest

from cases.models import Case, Kind, Status
from tests.test_workflow_factory import (  # noqa: F401 (an autouse fixture)
    O121_DAY,
    frozen,
    make_case,
)


def url(case: Case) -> str:
    return f"/api/v1/cases/{case.number}/actions"


@pytest.fixture
def complaint(cast, tree) -> Case:
    return make_case(department=tree.county, consumer=cast.alice, respondent=cast.shop)


def post(api, user, case: Case, body):
    with frozen(O121_DAY):
        return api.as_user(user).post_json(url(case), body)


def test_an_officer_accepts_and_gets_the_updated_case(api, cast, complaint):
    response = post(api, cast.ken, complaint, {"action": "accept", "version": complaint.version})

    assert response.status_code == 200
    body = response.json()
    assert (body["number"], body["status"], body["outcome"]) == (complaint.number, "accepted", None)
    assert body["version"] == complaint.version + 1
    assert "start_mediation" in body["allowed_actions"]


def test_two_officers_acting_on_the_same_version_one_wins_the_other_gets_409(api, cast, complaint):
    version = complaint.version
    first = post(api, cast.ken, complaint, {"action": "accept", "version": version})
    second = post(
        api,
        cast.ken,
        complaint,
        {"action": "reject", "version": version, "ground": "out_of_scope", "reason": "x"},
    )

    assert first.status_code == 200
    assert second.status_code == 409
    error = second.json()["error"]
    assert error["code"] == "stale_version"
    assert "start_mediation" in error["allowed_actions"]
    assert Case.objects.get(pk=complaint.pk).status == Status.ACCEPTED


def test_an_action_not_allowed_now_is_409_with_the_allowed_actions(api, cast, complaint):
    response = post(api, cast.ken, complaint, {"action": "start_mediation"})

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "invalid_action"
    assert error["allowed_actions"] == ["accept", "reject", "transfer", "escalate", "dispute"]
    assert error["message"]


def test_a_ground_not_in_the_rules_is_422_with_the_choices(api, cast, tree):
    old = make_case(
        department=tree.county, consumer=cast.alice, received_at=O121_DAY.replace(month=3)
    )

    response = post(api, cast.ken, old, {"action": "reject", "ground": "identity", "reason": "x"})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "ground" in error["fields"]
    assert "identity" not in error["choices"] and "out_of_scope" in error["choices"]


def test_an_unknown_action_is_422_listing_the_actions(api, cast, complaint):
    response = post(api, cast.ken, complaint, {"action": "fly"})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["fields"]["action"]
    assert "accept" in error["choices"]


@pytest.mark.parametrize(
    "body",
    [{}, {"action": 3}, {"action": "accept", "version": "1"}, {"action": "accept", "by": 1}],
)
def test_a_bad_envelope_is_422(api, cast, complaint, body):
    response = post(api, cast.ken, complaint, body)

    assert response.status_code == 422
    assert response.json()["error"]["fields"]


def test_a_body_that_is_not_a_json_object_is_400(api, cast, complaint):
    with frozen(O121_DAY):
        response = api.as_user(cast.ken).post(
            url(complaint), "[1]", content_type="application/json"
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed"


def test_without_signing_in_it_is_401(api, complaint):
    response = api.as_user(None).post_json(url(complaint), {"action": "accept"})
    assert response.status_code == 401


def test_a_neighbouring_county_does_not_find_a_west_lake_case(api, cast, complaint):
    response = post(api, cast.nick, complaint, {"action": "accept"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Case.objects.get(pk=complaint.pk).status == Status.SUBMITTED


def test_the_neighbouring_county_accepts_its_own_case(api, cast, tree):
    theirs = make_case(department=tree.neighbour, consumer=cast.bob)

    response = post(api, cast.nick, theirs, {"action": "accept"})

    assert response.status_code == 200
    assert response.json()["status"] == "accepted"


def test_another_consumer_does_not_find_alices_case(api, cast, complaint):
    response = post(api, cast.bob, complaint, {"action": "withdraw"})

    assert response.status_code == 404
    assert Case.objects.get(pk=complaint.pk).status == Status.SUBMITTED


def test_alice_withdraws_her_own_case(api, cast, complaint):
    response = post(api, cast.alice, complaint, {"action": "withdraw", "reason": "已和解"})

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["outcome"]) == ("closed", "withdrawn")
    assert body["allowed_actions"] == ["rate"]


def test_the_business_never_finds_a_report_against_it(api, cast, tree):
    report = make_case(
        kind=Kind.REPORT, department=tree.county, consumer=cast.alice, respondent=cast.shop
    )

    response = post(api, cast.betty, report, {"action": "accept"})

    assert response.status_code == 404


def test_the_business_finds_a_complaint_against_it_but_may_not_act_on_it(api, cast, complaint):
    response = post(api, cast.betty, complaint, {"action": "accept"})

    assert response.status_code == 409
    assert response.json()["error"]["allowed_actions"] == []


def test_a_station_officer_mediates_and_the_consumer_sees_the_county_bureau(
    api, cast, tree, complaint
):
    post(api, cast.ken, complaint, {"action": "accept", "handler_unit": "330106001"})

    response = post(api, cast.sam, complaint, {"action": "start_mediation", "note": "双方同意"})

    assert response.status_code == 200
    timeline = api.as_user(cast.alice).get(f"/api/v1/cases/{complaint.number}").json()["timeline"]
    assert [step["department"] for step in timeline] == [tree.county.bureau_name] * 3


@pytest.mark.parametrize(
    "due",
    [
        "20270101",  # compact: the API writes dates YYYY-MM-DD only
        (O121_DAY.date() + dt.timedelta(days=91)).isoformat(),  # an order is answered soon
    ],
)
def test_a_supervise_due_date_out_of_form_or_range_is_422(api, cast, complaint, due):
    body = {"action": "supervise", "instructions": "请尽快受理。", "due": due}

    response = post(api, cast.cathy, complaint, {**body, "version": complaint.version})

    assert response.status_code == 422
    assert "due" in response.json()["error"]["fields"]
    last = (O121_DAY.date() + dt.timedelta(days=90)).isoformat()
    ok = post(api, cast.cathy, complaint, {**body, "due": last, "version": complaint.version})
    assert ok.status_code == 200


def test_a_note_with_nothing_visible_is_422(api, cast, complaint):
    body = {"action": "supervise", "instructions": "\u202e\u200b", "version": complaint.version}

    response = post(api, cast.cathy, complaint, body)

    assert response.status_code == 422
    assert "instructions" in response.json()["error"]["fields"]
