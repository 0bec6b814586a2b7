"""The queue pages count part by part (held, handled elsewhere, own cases, the business's) and stop
counting at a cap: the same cases as one OR over the whole visibility rule, for every caller.

The speed itself is measured on the 1M-case database (docs/scaling.md); here the shape: each part
is counted once, the parts never overlap, and the counts agree with the rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from accounts.models import User
from cases.access import cases_visible_to, count_parts, visible_parts
from cases.models import Case, Kind, Outcome, Status
from cases.services import perform
from supervision.rollups import rebuild_rollups
from tests.test_cases_api import file, listing, numbers
from workbench.selectors import Queue, queue_cases, queue_counts

EVERYONE = ("alice", "bob", "betty", "nora", "paul", "cathy", "ken", "helen", "sam", "nick", "hank")


@pytest.fixture(autouse=True)
def fast_cast(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


@pytest.fixture
def spread(api, cast, tree) -> dict[str, str]:
    """Cases held and handled in different places, and one of Ken's own as a consumer."""
    made = {
        "west_lake": file(api, cast.alice),
        "neighbour": file(api, cast.bob, department="330102"),
        "station": file(api, cast.alice),
        "elsewhere": file(api, cast.bob),
        "kens_own": file(api, cast.bob, department="330102"),
    }
    for key in ("station", "elsewhere"):
        perform(
            Case.objects.get(number=made[key]),
            "accept",
            by=cast.ken,
            handler_unit=tree.station.code,
        )
    # Held by the neighbour, still handled by a West Lake station (a station moved, say).
    Case.objects.filter(number=made["elsewhere"]).update(department=tree.neighbour)
    Case.objects.filter(number=made["kens_own"]).update(consumer=cast.ken)
    rebuild_rollups()  # the updates went past the services (as a moved station would)
    return made


def test_the_api_count_agrees_with_the_rows_for_everyone(api, cast, spread):
    for name in EVERYONE:
        user: User = getattr(cast, name)
        page = listing(api, user, "?page_size=200")
        expected = set(cases_visible_to(user).values_list("number", flat=True))
        assert set(numbers(page)) == expected, name
        assert page["count"] == len(expected), name


def test_the_parts_do_not_overlap(cast, spread):
    for name in EVERYONE:
        user: User = getattr(cast, name)
        parts = [Case.objects.filter(part) for part in visible_parts(user)]
        sizes = [part.count() for part in parts]
        assert sum(sizes) == count_parts(parts) == cases_visible_to(user).count(), name


def test_ken_counts_his_own_case_once_and_the_case_handled_in_his_station(api, cast, spread):
    page = listing(api, cast.ken, "?page_size=200")
    assert spread["kens_own"] in numbers(page)
    assert spread["elsewhere"] in numbers(page)
    assert spread["neighbour"] not in numbers(page)
    assert page["count"] == 4


def test_a_filter_applies_to_every_part(api, cast, spread):
    assert listing(api, cast.ken, "?kind=report")["count"] == 0
    assert listing(api, cast.ken, "?status=accepted")["count"] == 2
    assert listing(api, cast.nick, "?status=accepted")["count"] == 1


def test_the_workbench_counts_agree_with_its_rows_at_every_level(cast, tree, spread):
    for user, department in (
        (cast.sam, tree.station),
        (cast.ken, tree.county),
        (cast.nick, tree.neighbour),
        (cast.cathy, tree.city),
        (cast.nora, tree.national),
    ):
        counts = queue_counts(user, department)
        for queue in Queue:
            rows = list(queue_cases(user, department, queue))
            assert counts[queue] == len(rows), (user, queue)
            assert len({case.pk for case in rows}) == len(rows)


def count_statements(client, path: str) -> tuple[list[str], list[str]]:
    """The counting statements of a listing: over the cases, over the rollups."""
    client.get(path)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    sqls = [q["sql"] for q in queries.captured_queries]
    cases = [sql for sql in sqls if sql.startswith("SELECT COUNT(")]
    counters = [
        sql for sql in sqls if sql.startswith("SELECT SUM(") and "supervision_rollup" in sql
    ]
    return cases, counters


def test_the_api_count_reads_the_counters_once_and_the_other_parts_in_one_query(api, cast, spread):
    cases, counters = count_statements(api.as_user(cast.ken), "/api/v1/cases")
    assert len(counters) == 1
    assert len(cases) == 1  # handled elsewhere and Ken's own: the parts after the held cases
    assert cases[0].count("UNION ALL") == len(visible_parts(cast.ken)) - 2


def test_the_api_count_of_a_search_counts_every_part_in_one_query(api, cast, spread):
    cases, counters = count_statements(api.as_user(cast.ken), "/api/v1/cases?q=shop")
    assert counters == []
    assert len(cases) == 1
    assert cases[0].count("UNION ALL") == len(visible_parts(cast.ken)) - 1


def test_a_business_user_sees_the_complaints_against_it_not_the_reports(api, cast):
    complaint = file(api, cast.alice)
    report = file(api, cast.alice, path="/api/v1/reports")
    page = listing(api, cast.betty)
    assert numbers(page) == [complaint]
    assert page["count"] == 1
    assert Case.objects.get(number=report).kind == Kind.REPORT


# --- the workbench's rows ---------------------------------------------------------------------


def queue_page_queries(client, queue: str) -> tuple[int, int]:
    """(queries, table rows) of one queue page, warmed first."""
    path = f"/staff/queue/{queue}/"
    client.get(path)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries), response.content.decode().count('href="/staff/cases/')


def test_every_queue_page_costs_the_same_queries_for_one_row_as_for_many(api, cast, tree):
    """A row reads only the columns the table shows: a column it shows but did not load would
    cost one query per row."""
    client = Client()
    client.force_login(cast.ken)

    def spread(how_many: int) -> None:
        for _ in range(how_many):
            accepted = Case.objects.get(number=file(api, cast.alice))
            perform(accepted, "accept", by=cast.ken, handler_unit=tree.station.code)
            closed = Case.objects.get(number=file(api, cast.alice))
            Case.objects.filter(pk=closed.pk).update(
                status=Status.CLOSED, outcome=Outcome.REJECTED, is_major=True
            )
            file(api, cast.bob)
        rebuild_rollups()  # the closing update went past the services

    spread(1)
    one = {queue: queue_page_queries(client, queue.value) for queue in Queue}
    spread(3)
    many = {queue: queue_page_queries(client, queue.value) for queue in Queue}
    for queue in (Queue.TO_ACCEPT, Queue.IN_HAND, Queue.CLOSED):
        assert one[queue][1] < many[queue][1], queue
    assert {queue: queries for queue, (queries, _) in one.items()} == {
        queue: queries for queue, (queries, _) in many.items()
    }


def test_the_to_accept_rows_do_not_restate_the_subtree(cast, tree, spread):
    """Held by the department itself is condition enough for staff over it; the subtree's units
    beside it would make a generic plan read every case of the unit."""
    rows = queue_cases(cast.ken, tree.county, Queue.TO_ACCEPT)
    sql = str(rows.query)
    assert '"department_id" IN' not in sql and '"handler_unit_id" IN' not in sql
    # The other queues, and to-accept of a unit the user is not staff over, keep the subtree.
    assert '"department_id" IN' in str(queue_cases(cast.ken, tree.county, Queue.IN_HAND).query)
    outside = str(queue_cases(cast.ken, tree.neighbour, Queue.TO_ACCEPT).query)
    assert '"department_id" IN' in outside
    numbers = {case.number for case in queue_cases(cast.ken, tree.neighbour, Queue.TO_ACCEPT)}
    assert numbers == {spread["kens_own"]}


@pytest.mark.parametrize(
    ("language", "words"),
    [("zh-hans", ("投诉", "已办结", "不予受理")), ("en", ("Complaint", "Closed", "Not accepted"))],
)
def test_a_row_prints_its_labels_link_and_local_time_in_the_callers_language(
    api, cast, language, words
):
    number = file(api, cast.alice)
    received = dt.datetime(2026, 3, 15, 1, 30, tzinfo=dt.UTC)  # 09:30 in Shanghai
    Case.objects.filter(number=number).update(
        status=Status.CLOSED, outcome=Outcome.REJECTED, received_at=received
    )
    rebuild_rollups()  # the update went past the services
    client = Client()
    client.force_login(cast.ken)
    client.cookies["django_language"] = language
    with translation.override(translation.get_language()):  # the request leaves it active
        html = client.get(f"/staff/queue/{Queue.CLOSED.value}/").content.decode()
    row = html[html.index(f'href="/staff/cases/{number}/"') :]
    row = row[: row.index("</tr>")]
    assert all(word in row for word in words), row
    assert "2026-03-15 09:30" in row
