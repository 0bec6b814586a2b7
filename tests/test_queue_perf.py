"""The queue pages count part by part (held, handled elsewhere, own cases, the business's) and stop
counting at a cap: the same cases as one OR over the whole visibility rule, for every caller.

The speed itself is measured on the 1M-case database (docs/scaling.md); here the shape: each part
is counted once, the parts never overlap, and the counts agree with the rows."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from cases.access import cases_visible_to, count_parts, visible_parts
from cases.models import Case, Kind
from cases.services import perform
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


def test_the_api_count_is_one_query_whatever_the_parts(api, cast, spread):
    client = api.as_user(cast.ken)
    client.get("/api/v1/cases")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/cases").status_code == 200
    counts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT(")]
    assert len(counts) == 1
    assert counts[0].count("UNION ALL") == len(visible_parts(cast.ken)) - 1


def test_a_business_user_sees_the_complaints_against_it_not_the_reports(api, cast):
    complaint = file(api, cast.alice)
    report = file(api, cast.alice, path="/api/v1/reports")
    page = listing(api, cast.betty)
    assert numbers(page) == [complaint]
    assert page["count"] == 1
    assert Case.objects.get(number=report).kind == Kind.REPORT
