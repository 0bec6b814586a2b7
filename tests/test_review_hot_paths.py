"""Review of the hot paths rewritten for speed (intake pipeline, department copies, businesses,
token check, counts from the HELD counters, list rows): the cases a review found wanting, and
the wider sweeps that found nothing wrong (every caller against every department filter)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DataError, connection

from accounts.models import Membership, User
from accounts.tokens import issue_token, revoke_token, user_for_token
from businesses.models import Business
from cases import intake
from cases.events import verify_case_events
from cases.intake import submit_case
from cases.models import Case, CaseEvent, Deadline
from departments.models import Department, Level
from supervision import rollups
from supervision.models import Rollup
from tests.conftest import make_department
from tests.test_intake_api import (
    caller,
    complaint_body,
    media_and_cache,  # noqa: F401 (autouse)
    upload,
)
from tests.test_queue_counts import EVERYONE, SHOP, listed
from tests.test_rollups import D, by_phone, do, file, own, when


def _filed(cast, tree) -> None:
    """Cases held, handled elsewhere and owned across the tree."""
    day = D(2026, 6, 1)
    moved = file(cast.hank, "complaint", by_phone("330106", when(day)), when(day))
    file(cast.alice, "complaint", own("330106", respondent=SHOP), when(day))
    file(cast.alice, "report", own("330100"), when(day))
    file(cast.hank, "complaint", by_phone("330102", when(day)), when(day))
    do(moved, "accept", cast.ken, when(D(2026, 6, 2)), handler_unit="330106001")


# --- counts: every caller, every department filter ----------------------------------------------


def test_every_department_filter_counts_exactly_what_each_caller_may_see(api, cast, tree):
    """Beyond the suite's fixed queries: every department of the tree as the filter, for every
    caller: extra memberships make separate subtrees, a business user who is also staff, and an
    officer who is the consumer of a case outside his subtree."""
    Membership.objects.create(user=cast.sam, department=tree.neighbour_station, roles=[])
    Membership.objects.create(user=cast.nick, department=tree.station2, roles=[])
    Membership.objects.create(user=cast.betty, department=tree.neighbour, roles=["handler"])
    _filed(cast, tree)
    # Ken filed one case as a consumer, outside his county.
    Case.objects.filter(department_id="330102").update(consumer=cast.ken)
    codes = list(Department.objects.values_list("code", flat=True))
    for name in EVERYONE:
        user = getattr(cast, name)
        user.refresh_from_db()
        for code in codes:
            for extra in ("", "&kind=complaint", "&status=accepted"):
                count, rows = listed(api, user, f"department={code}{extra}")
                assert count == rows, (name, code, extra)


# --- counts after a department moves -------------------------------------------------------------


def test_a_county_moved_to_another_city_takes_its_counts_along(api, cast, tree):
    """Moving a department (`Department.save`, `load_divisions`) changes which staff see its
    cases: the HELD counters must follow, or the old city's count keeps cases its staff can no
    longer list (a count that reveals them) and the new city's misses them."""
    other_city = make_department("330200", "宁波市", Level.CITY, tree.province)
    Membership.objects.create(user=cast.sam, department=other_city, roles=["handler"])
    _filed(cast, tree)
    county = Department.objects.get(code="330106")

    county.parent = other_city
    county.save()  # the county and its stations now lie under 宁波市

    cathy_count, cathy_rows = listed(api, cast.cathy, "")  # 杭州市
    assert cathy_count == cathy_rows
    sam_count, sam_rows = listed(api, cast.sam, "")
    assert sam_count == sam_rows
    assert rollups.differences() == []


def test_follow_move_shifts_every_row_of_the_subtree_to_its_new_ancestors(api, cast, tree):
    other_city = make_department("330200", "宁波市", Level.CITY, tree.province)
    Membership.objects.create(user=cast.sam, department=other_city, roles=["handler"])
    _filed(cast, tree)
    county = Department.objects.get(code="330106")
    old_path = county.path
    Department.objects.filter(code="330106").update(
        parent=other_city, path=f"{other_city.path}330106/"
    )
    for station in Department.objects.filter(parent_id="330106"):
        Department.objects.filter(pk=station.pk).update(
            path=f"{other_city.path}330106/{station.code}/"
        )
    assert rollups.differences() != []  # the counters still follow the old path

    rollups.follow_move(code="330106", old_path=old_path, new_path=f"{other_city.path}330106/")

    assert rollups.differences() == []
    for user in (cast.cathy, cast.sam, cast.paul):
        count, rows = listed(api, user, "")
        assert count == rows
    assert listed(api, cast.cathy, "") == (2, 2)  # 上城区's case and the city's report


# --- intake: nothing half-saved, rows equal to what the ORM writes -------------------------------


def _written() -> tuple[int, ...]:
    return (
        Case.objects.count(),
        CaseEvent.objects.count(),
        Deadline.objects.count(),
        Business.objects.count(),
        Rollup.objects.count(),
        sum(Rollup.objects.values_list("n", flat=True)),
    )


def test_a_submission_refused_after_its_rows_went_out_leaves_no_row_of_any_kind(api, cast):
    """The evidence check runs after the case, event, clock and rollup rows were sent (one
    pipeline on PostgreSQL) and after a new business was recorded: all of it rolls back, and the
    connection files the next case."""
    someone_elses = upload(api, cast.bob)
    new_business = {"name": "从未登记的小店", "address": "杭州市西湖区某路1号"}
    before = _written()

    response = api.as_user(cast.alice).post_json(
        "/api/v1/complaints",
        complaint_body(respondent=new_business, attachments=[someone_elses]),
    )

    assert response.status_code == 422
    assert _written() == before
    again = api.as_user(cast.alice).post_json("/api/v1/complaints", complaint_body())
    assert again.status_code == 201
    assert rollups.differences() == []


def test_a_call_received_just_after_midnight_in_china_is_numbered_and_clocked_that_day(api, cast):
    """A hotline receipt time at 00:30 +08:00 is the previous day in UTC: the number, the
    clock's start and the chain all use the China date, and the event hash survives a re-read."""
    body = complaint_body(
        on_behalf_of=caller(), channel="hotline", received_at="2026-11-20T00:30:00+08:00"
    )
    response = api.as_user(cast.hank).post_json("/api/v1/complaints", body)
    assert response.status_code == 201, response.content

    case = Case.objects.get(number=response.json()["number"])
    assert "20261120" in case.number
    assert Deadline.objects.get(case=case).started_on == dt.date(2026, 11, 20)
    assert (case.consumer_id, case.version) == (None, 1)
    assert verify_case_events(case) is None
    assert CaseEvent.objects.get(case=case).data == {"channel": "hotline", "on_behalf": True}
    assert rollups.differences() == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the rows are sent in a pipeline")
def test_a_failure_in_the_last_statement_of_the_pipeline_leaves_nothing(api, cast, monkeypatch):
    """The rollup upsert goes last, after the case, event and clock INSERTs succeeded: its
    failure rolls them back too, and the connection files the next case."""
    before = _written()
    monkeypatch.setattr(intake.rollups, "upsert_statements", lambda rows: [("SELECT 1 / %s", [0])])

    with pytest.raises(DataError):
        submit_case(kind="complaint", by=cast.alice, payload=complaint_body())

    assert _written() == before
    monkeypatch.undo()
    again = api.as_user(cast.alice).post_json("/api/v1/complaints", complaint_body())
    assert again.status_code == 201


# --- the token check ----------------------------------------------------------------------------


def test_the_user_a_token_reads_is_the_user_the_orm_reads(cast):
    """The raw statement's row goes through each field's converters (SQLite hands back booleans
    as integers and times as text): every field equals the ORM's value, types included."""
    cast.alice.last_login = dt.datetime(2026, 11, 1, 8, 30, tzinfo=dt.UTC)
    cast.alice.save()
    token = issue_token(user=cast.alice)

    found = user_for_token(token)

    assert found is not None
    expected = User.objects.get(pk=cast.alice.pk)
    for field in User._meta.concrete_fields:
        value, wanted = getattr(found, field.attname), getattr(expected, field.attname)
        assert (value, type(value)) == (wanted, type(wanted)), field.attname


def test_a_revoked_or_foreign_token_finds_no_one(cast):
    token = issue_token(user=cast.alice)
    assert user_for_token(token + "x") is None
    assert revoke_token(token)
    assert user_for_token(token) is None
