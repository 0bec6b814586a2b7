"""A page of case rows (`presenters.summary_rows`, the API list) is built from three queries and no
model per row; it must say exactly what `case_summary` says of each case, for every caller: the
consumer and the business (public units, no internal clock, no handling unit), staff over the
case and staff who are not (an officer's own case elsewhere), a case handled by a station, a
case held elsewhere but handled in the subtree, clocks paused, flagged or internal. The API
renders the rows itself: its bytes must be those ninja wrote when it validated `CasePage`."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from api.main import api as ninja_api
from cases.access import cases_visible_to
from cases.api import CasePage
from cases.deadlines import start_clock
from cases.models import Case, ClockKind, Deadline, Kind, Outcome, Status
from cases.presenters import SUMMARY_LENGTH, case_summary, summary_rows, with_summary
from cases.rules import local_date
from cases.services import perform
from departments.models import Department
from tests.clocks import set_clocks
from tests.test_intake_api import complaint_body

EVERYONE = ("alice", "bob", "betty", "nora", "paul", "cathy", "ken", "helen", "sam", "nick", "hank")
TODAY = dt.date(2026, 11, 30)
CUT = "投" * (SUMMARY_LENGTH + 1)
WHOLE = "诉" * SUMMARY_LENGTH
# Characters outside the basic plane count as one, in Python as in SQL.
ASTRAL = "😀" * (SUMMARY_LENGTH - 1) + "a b"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


def file(api, user: User, path: str = "/api/v1/complaints", **overrides) -> Case:
    response = api.as_user(user).post_json(path, complaint_body(**overrides))
    assert response.status_code == 201, response.content
    return Case.objects.get(number=response.json()["number"])


@pytest.fixture
def cases(api, cast, tree) -> dict[str, Case]:
    """Every shape a row can take, spread over West Lake, its stations and the neighbour."""
    made = {
        "plain": file(api, cast.alice),
        "cut": file(api, cast.alice, facts=CUT),
        "whole": file(api, cast.bob, facts=WHOLE),
        "astral": file(api, cast.bob, facts=ASTRAL),
        "report": file(api, cast.bob, path="/api/v1/reports"),
        "consultation": file(api, cast.alice, path="/api/v1/consultations", question="能退吗？"),
        "station": file(api, cast.alice),
        "elsewhere": file(api, cast.bob),
        "kens_own": file(api, cast.bob, department="330102"),
        "closed": file(api, cast.alice),
    }
    # Diverted to Wenxin, mediating, with the internal clock of a clue referred before clue
    # verifications became linked reports, late.
    station = perform(made["station"], "accept", by=cast.ken, handler_unit=tree.station.code)
    made["station"] = perform(station, "start_mediation", by=cast.sam)
    start_clock(
        made["station"],
        kind=ClockKind.CLUE_VERIFY,
        department=tree.station,
        start=TODAY - dt.timedelta(days=30),
        working_days=15,
    )
    clue = Deadline.objects.filter(case=made["station"], kind=ClockKind.CLUE_VERIFY)
    set_clocks(clue, due=TODAY - dt.timedelta(days=3))
    # Held by the neighbour, still handled by a West Lake station.
    perform(made["elsewhere"], "accept", by=cast.ken, handler_unit=tree.station2.code)
    Case.objects.filter(pk=made["elsewhere"].pk).update(department=tree.neighbour)
    Case.objects.filter(pk=made["kens_own"].pk).update(consumer=cast.ken)
    # A paused clock past its due date, a clock the sweep flagged, a closed major case.
    set_clocks(
        Deadline.objects.filter(case=made["plain"]),
        due=TODAY - dt.timedelta(days=1),
        paused_since=TODAY - dt.timedelta(days=5),
    )
    set_clocks(  # flagged by the sweep once past due, then paused: late by its flag alone
        Deadline.objects.filter(case=made["cut"]),
        due=TODAY - dt.timedelta(days=2),
        paused_since=TODAY,
        overdue=True,
    )
    set_clocks(Deadline.objects.filter(case=made["report"]), due=TODAY - dt.timedelta(days=1))
    set_clocks(Deadline.objects.filter(case=made["closed"]), cancelled=True)
    Case.objects.filter(pk=made["closed"].pk).update(
        status=Status.CLOSED, outcome=Outcome.REJECTED, closed_at=timezone.now(), is_major=True
    )
    return {key: Case.objects.get(pk=case.pk) for key, case in made.items()}


def visible(user: User):
    return cases_visible_to(user).order_by("-received_at", "-id")


def per_case(user: User, today: dt.date | None = TODAY) -> list[dict]:
    """The rows as the API wrote them before: a model per case, `case_summary` of each."""
    return [case_summary(case, user, today=today) for case in with_summary(visible(user))]


def by_number(rows: list[dict]) -> dict[str, dict]:
    return {row["number"]: row for row in rows}


def test_every_caller_gets_the_rows_case_summary_gives(cast, cases):
    for name in EVERYONE:
        user: User = getattr(cast, name)
        rows = summary_rows(visible(user)[:200], user, today=TODAY)
        assert rows == per_case(user), name
        assert [row["number"] for row in rows] == list(
            visible(user).values_list("number", flat=True)
        )


def test_the_rows_cover_every_kind_of_caller_and_case(cast, cases):
    """The fixture exercises each branch: public and staff units, internal clocks, cut facts."""
    public = by_number(summary_rows(visible(cast.alice), cast.alice, today=TODAY))
    staff = by_number(summary_rows(visible(cast.ken), cast.ken, today=TODAY))
    station = cases["station"].number
    assert public[station]["department"]["code"] == "330106"
    assert public[station]["handler_unit"] is None
    assert public[station]["is_major"] is None
    assert [clock["kind"] for clock in public[station]["deadlines"]] == [ClockKind.MEDIATE]
    assert staff[station]["handler_unit"]["code"] == "330106001"
    assert ClockKind.CLUE_VERIFY in [clock["kind"] for clock in staff[station]["deadlines"]]
    assert any(clock["overdue"] for clock in staff[station]["deadlines"])
    assert not any(clock["overdue"] for clock in public[station]["deadlines"])
    assert staff[cases["closed"].number]["is_major"] is True
    assert staff[cases["closed"].number]["deadlines"] == []
    assert public[cases["cut"].number]["summary"] == CUT[:SUMMARY_LENGTH] + "…"
    assert staff[cases["whole"].number]["summary"] == WHOLE
    assert staff[cases["astral"].number]["summary"] == ASTRAL[:SUMMARY_LENGTH] + "…"
    assert public[cases["consultation"].number]["summary"] == "能退吗？"
    assert public[cases["plain"].number]["deadlines"][0]["overdue"] is False  # paused
    assert staff[cases["report"].number]["deadlines"][0]["overdue"] is True
    assert staff[cases["cut"].number]["deadlines"][0]["overdue"] is True  # flagged


def test_an_officer_sees_his_own_case_elsewhere_as_its_consumer(cast, cases):
    rows = by_number(summary_rows(visible(cast.ken), cast.ken, today=TODAY))
    own = rows[cases["kens_own"].number]
    assert own["handler_unit"] is None and own["is_major"] is None
    assert own["department"]["code"] == "330102"
    # The neighbour's officer is staff over it, and over the case held there.
    nick = by_number(summary_rows(visible(cast.nick), cast.nick, today=TODAY))
    assert nick[cases["kens_own"].number]["is_major"] is False
    assert nick[cases["elsewhere"].number]["handler_unit"]["code"] == "330106002"
    assert rows[cases["elsewhere"].number]["department"]["code"] == "330102"
    assert rows[cases["elsewhere"].number]["handler_unit"]["code"] == "330106002"


def test_the_business_sees_the_complaints_against_it_as_the_public_does(cast, cases):
    rows = summary_rows(visible(cast.betty), cast.betty, today=TODAY)
    assert {row["kind"] for row in rows} == {Kind.COMPLAINT}
    assert all(row["handler_unit"] is None for row in rows)
    assert rows == per_case(cast.betty)


def test_without_a_day_the_rows_use_today(cast, cases):
    today = local_date(timezone.now())
    assert summary_rows(visible(cast.ken), cast.ken) == per_case(cast.ken, today)
    assert summary_rows(visible(cast.alice), cast.alice) == per_case(cast.alice, today)


def test_a_page_is_three_queries_however_many_rows(cast, cases):
    kens = visible(cast.ken)  # reads the subtree's units once
    with CaptureQueriesContext(connection) as one:
        summary_rows(kens[:1], cast.ken, today=TODAY)
    with CaptureQueriesContext(connection) as many:
        rows = summary_rows(kens[:200], cast.ken, today=TODAY)
    assert len(rows) > 5
    assert len(one) == len(many) == 3
    with CaptureQueriesContext(connection) as empty:
        assert summary_rows(kens.none(), cast.ken) == []
    assert len(empty) == 0
    # The facts are read only cut, in SQL.
    sql = many.captured_queries[0]["sql"]
    cut = f'"cases_case"."facts", 1, {SUMMARY_LENGTH + 1})'
    assert sql.count('"cases_case"."facts"') == sql.count(cut) == 1


def test_a_renamed_unit_shows_its_new_name_on_the_next_page(cast, cases):
    Department.objects.filter(code="330106001").update(name="西湖区文新新所")
    rows = by_number(summary_rows(visible(cast.sam), cast.sam, today=TODAY))
    assert rows[cases["station"].number]["handler_unit"]["name"] == "西湖区文新新所"


# --- the API renders the page itself ----------------------------------------------------------


def ninja_rendered(count: int, rows: list[dict]) -> bytes:
    """The body ninja wrote for a `CasePage` it validated (its renderer, its field order)."""
    page = CasePage.model_validate({"count": count, "results": rows}).model_dump()
    return ninja_api.renderer.render(None, page, response_status=200).encode()  # type: ignore[arg-type]


@pytest.mark.parametrize("name", EVERYONE)
def test_the_api_page_is_byte_for_byte_what_ninja_rendered(api, cast, cases, name):
    user: User = getattr(cast, name)
    response = api.as_user(user).get("/api/v1/cases?page_size=200")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    today = local_date(timezone.now())
    expected = per_case(getattr(cast, name), today)
    assert response.content == ninja_rendered(response.json()["count"], expected)


def test_a_later_page_of_the_api_is_the_same_slice_of_rows(api, cast, cases):
    response = api.as_user(cast.cathy).get("/api/v1/cases?page=2&page_size=3")
    today = local_date(timezone.now())
    expected = per_case(cast.cathy, today)[3:6]
    assert len(expected) == 3
    assert response.content == ninja_rendered(response.json()["count"], expected)


def test_the_openapi_schema_still_declares_the_page(api):
    schema = api.get("/api/v1/openapi.json").json()
    ok = schema["paths"]["/api/v1/cases"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["$ref"].endswith("/CasePage")
