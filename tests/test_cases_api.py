"""Reading cases: lists with filters and pages, the case as each caller may see it, categories."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.events import append_event
from cases.models import Case, Deadline, Visibility
from cases.presenters import case_payload
from tests.clocks import set_clocks
from tests.test_intake_api import caller, complaint_body


@pytest.fixture(autouse=True)
def fast_cast(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


def file(api, user, path="/api/v1/complaints", **overrides) -> str:
    response = api.as_user(user).post_json(path, complaint_body(**overrides))
    assert response.status_code == 201, response.content
    return response.json()["number"]


def listing(api, user, query="") -> dict:
    response = api.as_user(user).get(f"/api/v1/cases{query}")
    assert response.status_code == 200, response.content
    return response.json()


def numbers(page: dict) -> list[str]:
    return [row["number"] for row in page["results"]]


# --- visibility ----------------------------------------------------------------------------


def test_a_consumer_lists_only_their_own_cases(api, cast):
    mine = file(api, cast.alice)
    file(api, cast.bob)

    page = listing(api, cast.alice)

    assert page["count"] == 1
    assert numbers(page) == [mine]
    assert page["results"][0]["status"] == "submitted"
    assert page["results"][0]["deadlines"][0]["kind"] == "accept"


@pytest.mark.parametrize(
    ("who", "status"),
    [("alice", 200), ("ken", 200), ("sam", 404), ("cathy", 200), ("bob", 404), ("nick", 404)],
)
def test_who_may_see_a_complaint(api, cast, who, status):
    number = file(api, cast.alice)
    response = api.as_user(getattr(cast, who)).get(f"/api/v1/cases/{number}")
    assert response.status_code == status
    if status == 404:
        assert response.json()["error"]["code"] == "not_found"


def test_the_business_sees_a_complaint_against_it_but_never_a_report(api, cast):
    complaint = file(api, cast.alice)
    report = file(api, cast.alice, path="/api/v1/reports")

    assert api.as_user(cast.betty).get(f"/api/v1/cases/{complaint}").status_code == 200
    assert api.as_user(cast.betty).get(f"/api/v1/cases/{report}").status_code == 404
    assert numbers(listing(api, cast.betty)) == [complaint]


def test_an_unknown_case_is_404_like_a_hidden_one(api, cast):
    response = api.as_user(cast.alice).get("/api/v1/cases/T2026010100000099")
    assert response.status_code == 404


def test_reading_needs_a_signed_in_caller(api, cast):
    assert api.get("/api/v1/cases").status_code == 401


# --- contact details -----------------------------------------------------------------------


def party_seen_by(api, user, number) -> dict:
    return api.as_user(user).get(f"/api/v1/cases/{number}").json()["party"]


def test_the_consumer_and_the_holding_unit_see_the_full_phone(api, cast):
    number = file(api, cast.alice)
    assert party_seen_by(api, cast.alice, number)["phone"] == "13800000001"
    assert party_seen_by(api, cast.ken, number)["phone"] == "13800000001"


def test_staff_higher_up_see_the_phone_masked(api, cast):
    number = file(api, cast.alice)
    party = party_seen_by(api, cast.cathy, number)
    assert party["phone"] == "138****0001"
    assert party["address"] == "杭州市西湖区文一路1号"


def test_the_business_sees_phone_and_address_masked(api, cast):
    number = file(api, cast.alice)
    party = party_seen_by(api, cast.betty, number)
    assert party == {"name": "张爱丽", "phone": "138****0001", "address": "杭州市西湖区****"}


def test_a_hotline_callers_phone_is_shown_to_the_holding_unit(api, cast):
    number = file(api, cast.hank, on_behalf_of=caller())
    assert party_seen_by(api, cast.ken, number)["phone"] == "13900000009"
    assert party_seen_by(api, cast.cathy, number)["phone"] == "139****0009"


# --- the public face of the timeline -------------------------------------------------------


@pytest.fixture
def routed(api, cast, tree):
    number = file(api, cast.alice)
    case = Case.objects.get(number=number)
    case.handler_unit = tree.station
    case.status = "accepted"
    case.save()
    append_event(
        case,
        action="divert",
        by=cast.ken,
        department=tree.county,
        visibility=Visibility.INTERNAL,
        note="分流至文新所",
    )
    append_event(
        case, action="accept", by=cast.sam, department=tree.station, note="已受理，正在处理"
    )
    return number


def test_the_consumers_timeline_leaves_out_internal_steps_and_names_the_county(api, cast, routed):
    case = api.as_user(cast.alice).get(f"/api/v1/cases/{routed}").json()

    assert [event["action"] for event in case["timeline"]] == ["submit", "accept"]
    accept = case["timeline"][1]
    assert accept["department"] == "杭州市西湖区市场监督管理局"
    assert accept["by"] == "杭州市西湖区市场监督管理局"
    assert "Sam" not in str(case)
    assert "文新" not in str(case)
    assert case["department"]["code"] == "330106"
    assert case["handler_unit"] is None


def test_the_business_sees_the_same_public_timeline(api, cast, routed):
    case = api.as_user(cast.betty).get(f"/api/v1/cases/{routed}").json()
    assert [event["action"] for event in case["timeline"]] == ["submit", "accept"]
    assert case["timeline"][0]["by"] == "投诉人"


def test_staff_see_every_step_with_names(api, cast, routed):
    case = api.as_user(cast.ken).get(f"/api/v1/cases/{routed}").json()

    assert [event["action"] for event in case["timeline"]] == ["submit", "divert", "accept"]
    assert case["timeline"][1]["visibility"] == "internal"
    assert case["timeline"][2]["by"] == "Sam"
    assert case["timeline"][2]["department"] == "西湖区文新市场监管所"
    assert case["handler_unit"]["code"] == "330106001"


def test_a_station_officer_handling_the_case_sees_it(api, cast, routed):
    assert api.as_user(cast.sam).get(f"/api/v1/cases/{routed}").status_code == 200


# --- the case shape ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "ken", "betty"])
def test_the_api_returns_the_presenters_case_unchanged(api, cast, who):
    """The response schema drops nothing the presenter produces (and adds nothing)."""
    number = file(api, cast.alice)
    user = getattr(cast, who)
    response = api.as_user(user).get(f"/api/v1/cases/{number}").json()
    assert response == case_payload(Case.objects.get(number=number), user)


def test_reading_a_case_costs_the_same_however_long_its_timeline(api, cast):
    number = file(api, cast.alice)
    case = Case.objects.get(number=number)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.as_user(cast.ken).get(f"/api/v1/cases/{number}").status_code == 200
        return len(captured)

    short = queries()
    for n in range(10):
        append_event(case, action="note", by=cast.ken, department=case.department, note=str(n))
    assert queries() == short
    assert short <= 15


def test_deadlines_show_whether_they_are_overdue(api, cast):
    number = file(api, cast.alice)
    set_clocks(Deadline.objects.filter(case__number=number), due=dt.date(2026, 1, 5))
    case = api.as_user(cast.alice).get(f"/api/v1/cases/{number}").json()
    assert case["deadlines"] == [
        {"kind": "accept", "due": "2026-01-05", "met_at": None, "overdue": True}
    ]


# --- filters and pages ---------------------------------------------------------------------


@pytest.fixture
def several(api, cast, tree):
    """Two complaints and a report at West Lake, one complaint at the neighbouring county."""
    return {
        "complaint": file(api, cast.alice),
        "report": file(api, cast.alice, path="/api/v1/reports", facts="无证经营，售卖过期食品。"),
        "other_shop": file(
            api,
            cast.bob,
            respondent={"name": "西湖眼镜店", "address": "杭州市西湖区天目山路5号"},
        ),
        "neighbour": file(api, cast.bob, department="330102"),
    }


def test_staff_list_their_subtree(api, cast, several):
    assert set(numbers(listing(api, cast.ken))) == {
        several["complaint"],
        several["report"],
        several["other_shop"],
    }
    assert listing(api, cast.cathy)["count"] == 4
    assert numbers(listing(api, cast.nick)) == [several["neighbour"]]


def test_filter_by_kind(api, cast, several):
    assert numbers(listing(api, cast.ken, "?kind=report")) == [several["report"]]


def test_filter_by_status(api, cast, several):
    Case.objects.filter(number=several["complaint"]).update(status="accepted")
    assert numbers(listing(api, cast.ken, "?status=accepted")) == [several["complaint"]]
    assert listing(api, cast.ken, "?status=closed")["count"] == 0


def test_filter_by_department_takes_its_subtree(api, cast, several, tree):
    assert listing(api, cast.cathy, "?department=330102")["count"] == 1
    assert listing(api, cast.cathy, "?department=330100")["count"] == 4
    Case.objects.filter(number=several["complaint"]).update(handler_unit=tree.station)
    assert numbers(listing(api, cast.cathy, "?department=330106001")) == [several["complaint"]]


def test_filter_overdue(api, cast, several):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    set_clocks(Deadline.objects.filter(case__number=several["complaint"]), due=yesterday)
    set_clocks(  # flagged by the sweep once past due, then paused: late by its flag alone
        Deadline.objects.filter(case__number=several["report"]),
        due=timezone.localdate() - dt.timedelta(days=2),
        paused_since=timezone.localdate(),
        overdue=True,
    )

    overdue = set(numbers(listing(api, cast.ken, "?overdue=true")))
    on_time = set(numbers(listing(api, cast.ken, "?overdue=false")))

    assert overdue == {several["complaint"], several["report"]}
    assert on_time == {several["other_shop"]}


def test_a_met_deadline_is_not_overdue(api, cast, several):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    set_clocks(
        Deadline.objects.filter(case__number=several["complaint"]),
        due=yesterday,
        met_at=timezone.now(),
    )
    assert listing(api, cast.ken, "?overdue=true")["count"] == 0


@pytest.mark.parametrize(
    ("q", "key"),
    [("眼镜", "other_shop"), ("过期食品", "report")],
)
def test_search_by_respondent_or_facts(api, cast, several, q, key):
    assert numbers(listing(api, cast.ken, f"?q={q}")) == [several[key]]


def test_search_by_number(api, cast, several):
    number = several["report"]
    assert numbers(listing(api, cast.ken, f"?q={number.lower()}")) == [number]


def test_pages(api, cast, several):
    first = listing(api, cast.cathy, "?page_size=3")
    second = listing(api, cast.cathy, "?page_size=3&page=2")
    beyond = listing(api, cast.cathy, "?page_size=3&page=5")

    assert first["count"] == second["count"] == 4
    assert len(first["results"]) == 3
    assert len(second["results"]) == 1
    assert set(numbers(first)) | set(numbers(second)) == set(several.values())
    assert beyond["results"] == []


def test_the_newest_case_comes_first(api, cast, several):
    rows = listing(api, cast.cathy)["results"]
    received = [row["received_at"] for row in rows]
    assert received == sorted(received, reverse=True)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?kind=bogus", "kind"),
        ("?status=open", "status"),
        ("?department=999999", "department"),
        ("?overdue=maybe", "overdue"),
        ("?page=0", "page"),
        ("?page=x", "page"),
        ("?page_size=201", "page_size"),
        ("?page_size=-1", "page_size"),
        ("?q=" + "字" * 101, "q"),
    ],
)
def test_bad_filter_values_are_422(api, cast, query, field):
    response = api.as_user(cast.ken).get(f"/api/v1/cases{query}")
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == [field]


def test_the_largest_page_is_allowed(api, cast, several):
    assert listing(api, cast.cathy, "?page_size=200")["count"] == 4


# --- rate limit ----------------------------------------------------------------------------


def test_creating_cases_is_rate_limited_per_user(api, cast, settings, one_clock_minute):
    settings.CASE_CREATE_RATE_PER_MINUTE = 2
    file(api, cast.alice)
    file(api, cast.alice, path="/api/v1/reports")

    response = api.as_user(cast.alice).post_json("/api/v1/complaints", complaint_body())

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert int(response["Retry-After"]) == 59
    assert Case.objects.count() == 2
    assert api.as_user(cast.bob).post_json("/api/v1/complaints", complaint_body()).status_code == (
        201
    )


# --- categories ----------------------------------------------------------------------------


def test_anyone_reads_the_category_list(api, db):
    response = api.get("/api/v1/categories")

    assert response.status_code == 200
    groups = response.json()
    assert [(g["code"], g["name"]) for g in groups] == [("G", "商品"), ("S", "服务")]
    leaves = [leaf for group in groups for leaf in group["children"]]
    assert 40 <= len(leaves) <= 60
    assert len({leaf["code"] for leaf in leaves}) == len(leaves)
    assert {"code": "G01", "name": "家用电器"} in leaves
    assert {"code": "S02", "name": "教育培训"} in leaves


def test_the_category_list_speaks_english_too(api, db):
    groups = api.get("/api/v1/categories", HTTP_ACCEPT_LANGUAGE="en").json()
    assert groups[0]["name"] == "Goods"


def test_the_overdue_filter_is_the_same_when_the_late_cases_are_too_many_to_list(
    api, cast, several, monkeypatch
):
    """Past LATE_CASES_LISTED late cases the filter probes each case's clocks instead of listing
    them: same answer either way."""
    from cases import api as cases_api

    set_clocks(  # flagged by the sweep once past due, then paused: late by its flag alone
        Deadline.objects.filter(case__number=several["report"]),
        due=timezone.localdate() - dt.timedelta(days=2),
        paused_since=timezone.localdate(),
        overdue=True,
    )
    listed = {
        query: set(numbers(listing(api, cast.ken, query)))
        for query in ("?overdue=true", "?overdue=false")
    }
    monkeypatch.setattr(cases_api, "LATE_CASES_LISTED", 0)
    probed = {
        query: set(numbers(listing(api, cast.ken, query)))
        for query in ("?overdue=true", "?overdue=false")
    }
    assert probed == listed
    assert several["report"] in listed["?overdue=true"]
