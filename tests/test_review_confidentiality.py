"""Security review: what consumers and businesses can learn about internal routing, internal
clocks and supervision, directly or through the list filters (WORKFLOW.md "Confidentiality",
"Stations and the public timeline"; charter: 分转流程属于内部流转环节，不对社会公开).

Each probe has its staff twin: the same question asked by staff over the case gets the internal
answer, so a test cannot pass because the data is simply missing.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cases.deadlines import start_clock
from cases.models import Case, ClockKind, Deadline, Kind
from cases.services import perform
from notifications.models import Notification
from tests.clocks import set_clocks
from tests.test_intake_api import PNG, caller, complaint_body

STATION_MARKS = ("文新", "330106001", "灵隐", "330106002")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


def file(api, user, path="/api/v1/complaints", **overrides) -> str:
    response = api.as_user(user).post_json(path, complaint_body(**overrides))
    assert response.status_code == 201, response.content
    return response.json()["number"]


def count(api, user, query: str) -> int:
    response = api.as_user(user).get(f"/api/v1/cases{query}")
    assert response.status_code == 200, response.content
    return response.json()["count"]


@pytest.fixture
def diverted(api, cast) -> Case:
    """Alice's complaint against Betty's shop, accepted by West Lake and diverted to Wenxin."""
    case = Case.objects.get(number=file(api, cast.alice))
    return perform(case, "accept", by=cast.ken, handler_unit="330106001")


# --- the department filter must not reveal the station -------------------------------------


@pytest.mark.parametrize("who", ["alice", "betty"])
def test_the_department_filter_does_not_tell_the_public_which_station_handles_a_case(
    api, cast, diverted, who
):
    user = getattr(cast, who)

    # Wenxin handles it and Lingyin does not: the public answer must be the same for both.
    assert count(api, user, "?department=330106001") == count(api, user, "?department=330106002")
    # The county bureau is the public face: filtering by it still finds the case.
    assert count(api, user, "?department=330106") == 1


def test_staff_over_the_case_still_find_it_by_the_station_that_handles_it(api, cast, diverted):
    assert count(api, cast.cathy, "?department=330106001") == 1
    assert count(api, cast.cathy, "?department=330106002") == 0
    assert count(api, cast.sam, "?department=330106001") == 1


# --- the overdue filter must not reveal internal clocks ------------------------------------


@pytest.fixture
def clue_overdue(cast, diverted) -> Case:
    """A violation clue referred (诉转案) before clue verifications became linked reports kept
    its internal clock on the complaint; that clock is now late, the public clocks on time."""
    case = perform(diverted, "start_mediation", by=cast.sam)
    start_clock(
        case,
        kind=ClockKind.CLUE_VERIFY,
        department=case.handler_unit,
        start=dt.date(2025, 12, 1),
        working_days=15,
    )
    set_clocks(
        Deadline.objects.filter(case=case, kind=ClockKind.CLUE_VERIFY), due=dt.date(2026, 1, 5)
    )
    return case


def test_a_late_clue_verification_is_a_report_the_parties_do_not_see(api, cast, diverted):
    case = perform(diverted, "start_mediation", by=cast.sam)
    perform(case, "refer_clue", by=cast.sam, note="发现涉嫌违法线索")
    report = Case.objects.get(linked_case=case, kind=Kind.REPORT)
    set_clocks(Deadline.objects.filter(case=report), due=dt.date(2026, 1, 5))

    for party in (cast.alice, cast.betty):
        assert count(api, party, "?overdue=true") == 0
        assert count(api, party, "?overdue=false") == 1  # the complaint alone
        assert api.as_user(party).get(f"/api/v1/cases/{report.number}").status_code == 404
    assert count(api, cast.ken, "?overdue=true") == 1  # the report
    shown = api.as_user(cast.ken).get(f"/api/v1/cases/{report.number}").json()
    assert [clock["overdue"] for clock in shown["deadlines"]] == [True]


@pytest.mark.parametrize("who", ["alice", "betty"])
def test_the_overdue_filter_does_not_reveal_an_internal_clue_clock(api, cast, clue_overdue, who):
    user = getattr(cast, who)
    shown = api.as_user(user).get(f"/api/v1/cases/{clue_overdue.number}").json()

    assert not any(clock["overdue"] for clock in shown["deadlines"])
    assert count(api, user, "?overdue=true") == 0
    assert count(api, user, "?overdue=false") == 1


def test_staff_see_a_case_with_a_late_clue_clock_as_overdue(api, cast, clue_overdue):
    assert count(api, cast.ken, "?overdue=true") == 1
    assert count(api, cast.ken, "?overdue=false") == 0


def test_the_overdue_filter_agrees_with_the_deadlines_while_the_clocks_are_paused(
    api, cast, diverted
):
    case = perform(diverted, "start_mediation", by=cast.sam)
    case = perform(case, "pause", by=cast.sam, reason="送检")
    set_clocks(Deadline.objects.filter(case=case, kind=ClockKind.MEDIATE), due=dt.date(2026, 1, 5))

    shown = api.as_user(cast.ken).get(f"/api/v1/cases/{case.number}").json()
    assert not any(clock["overdue"] for clock in shown["deadlines"])
    assert count(api, cast.ken, "?overdue=true") == 0


# --- supervision marks are internal ----------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "betty"])
def test_a_major_case_mark_is_not_shown_to_the_consumer_or_the_business(api, cast, diverted, who):
    perform(diverted, "mark_major", by=cast.cathy)
    user = getattr(cast, who)

    detail = api.as_user(user).get(f"/api/v1/cases/{diverted.number}").json()
    row = api.as_user(user).get("/api/v1/cases").json()["results"][0]

    assert detail["is_major"] is None
    assert row["is_major"] is None
    assert "mark_major" not in [event["action"] for event in detail["timeline"]]


def test_staff_see_the_major_case_mark(api, cast, diverted):
    perform(diverted, "mark_major", by=cast.cathy)

    assert api.as_user(cast.ken).get(f"/api/v1/cases/{diverted.number}").json()["is_major"]
    assert api.as_user(cast.ken).get("/api/v1/cases").json()["results"][0]["is_major"] is True


# --- a whole diverted case, as the public sees it -------------------------------------------


def test_no_station_name_or_code_reaches_the_consumer_or_business_anywhere(api, cast, diverted):
    number = diverted.number
    upload = SimpleUploadedFile("station-photo.png", PNG, "image/png")
    response = api.as_user(cast.sam).post(f"/api/v1/cases/{number}/attachments", {"file": upload})
    assert response.status_code == 201
    case = Case.objects.get(number=number)
    case = perform(case, "start_mediation", by=cast.sam, note="双方同意调解")
    case = perform(case, "pause", by=cast.sam, reason="送检")
    case = perform(case, "resume", by=cast.sam)
    case = perform(case, "supervise", by=cast.helen, instructions="请抓紧办理")
    perform(case, "terminate", by=cast.sam, ground="no_agreement_possible", note="双方分歧较大")

    for user in (cast.alice, cast.betty):
        seen = api.as_user(user).get(f"/api/v1/cases/{number}").content.decode()
        listed = api.as_user(user).get("/api/v1/cases").content.decode()
        for mark in STATION_MARKS:
            assert mark not in seen and mark not in listed, (user.username, mark)
        timeline = json.loads(seen)["timeline"]
        assert {event["department"] for event in timeline} <= {"杭州市西湖区市场监督管理局", None}

    notices = " ".join(
        Notification.objects.filter(recipient__in=[cast.alice, cast.betty]).values_list(
            "body", flat=True
        )
    )
    assert "杭州市西湖区市场监督管理局" in notices
    assert not any(mark in notices for mark in STATION_MARKS)

    browser = Client()
    browser.force_login(cast.alice)
    for page in (f"/my/cases/{number}/", "/my/cases/"):
        html = browser.get(page).content.decode()
        assert not any(mark in html for mark in STATION_MARKS), page

    # The twin: staff see the station.
    assert "330106001" in api.as_user(cast.ken).get(f"/api/v1/cases/{number}").content.decode()


# --- the business and reports, hotline cases and strangers ------------------------------------


def test_the_business_never_reaches_a_report_or_its_evidence_by_any_path(api, cast):
    report = file(api, cast.alice, path="/api/v1/reports", facts="该店销售过期食品。")
    evidence = api.as_user(cast.alice).post(
        f"/api/v1/cases/{report}/attachments",
        {"file": SimpleUploadedFile("p.png", PNG, "image/png")},
    )
    assert evidence.status_code == 201
    complaint = file(api, cast.alice)
    betty = api.as_user(cast.betty)

    assert betty.get(f"/api/v1/cases/{report}").status_code == 404
    assert count(api, cast.betty, "") == 1
    assert count(api, cast.betty, "?kind=report") == 0
    assert count(api, cast.betty, f"?q={report}") == 0
    assert count(api, cast.betty, "?q=过期食品") == 0
    assert betty.post_json(
        f"/api/v1/cases/{report}/actions", {"action": "withdraw"}
    ).status_code == (404)
    upload = SimpleUploadedFile("x.png", PNG, "image/png")
    assert betty.post(f"/api/v1/cases/{report}/attachments", {"file": upload}).status_code == 404
    assert betty.get(evidence.json()["url"]).status_code == 404
    assert betty.get(f"/api/v1/cases/{complaint}").status_code == 200  # the twin


def test_the_business_sees_the_complainant_masked_and_never_the_id_number(api, cast):
    number = file(api, cast.alice)
    seen = api.as_user(cast.betty).get(f"/api/v1/cases/{number}")

    assert seen.json()["party"] == {
        "name": "张爱丽",
        "phone": "138****0001",
        "address": "杭州市西湖区****",
    }
    body = seen.content.decode()
    assert "13800000001" not in body
    assert "110101199003070011" not in body and "0307" not in body
    assert api.as_user(cast.alice).get(f"/api/v1/cases/{number}").json()["party"]["phone"] == (
        "13800000001"
    )


def test_a_hotline_case_is_seen_by_nobody_outside_it(api, cast):
    response = api.as_user(cast.hank).post_json(
        "/api/v1/complaints", complaint_body(on_behalf_of=caller())
    )
    assert response.status_code == 201, response.content
    number = response.json()["number"]
    assert Case.objects.get(number=number).consumer is None

    for stranger in (cast.alice, cast.bob, cast.nick, cast.sam):
        assert api.as_user(stranger).get(f"/api/v1/cases/{number}").status_code == 404
        assert count(api, stranger, "") == 0
        assert perform_denied(stranger, number)
    assert api.as_user(cast.ken).get(f"/api/v1/cases/{number}").status_code == 200
    party = api.as_user(cast.betty).get(f"/api/v1/cases/{number}").json()["party"]
    assert party["phone"] == "139****0009"


def perform_denied(user, number: str) -> bool:
    from cases.workflow import allowed_actions

    return allowed_actions(Case.objects.get(number=number), user) == []


def test_a_consultation_never_reaches_the_business(api, cast):
    response = api.as_user(cast.alice).post_json(
        "/api/v1/consultations", {"department": "330106", "question": "好运来电器的保修怎么算？"}
    )
    assert response.status_code == 201
    number = response.json()["number"]
    assert Case.objects.get(number=number).kind == Kind.CONSULTATION

    assert api.as_user(cast.betty).get(f"/api/v1/cases/{number}").status_code == 404
