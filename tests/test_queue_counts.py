"""The staff queue counts read from the HELD counters (`cases.counting`) equal the cases listed,
for every caller and filter, through intake, every workflow action that moves a case, the sweep
and a generated workload; the workbench's status queues likewise equal their rows.

The expected figures come from the rows themselves (the API's pages walked to the end, the
workbench's `queue_cases`), never from the counters."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.db.models import F

from accounts.models import Membership, User
from cases.counting import count_visible, held_count
from cases.models import Case, Kind, Status
from departments.models import Department
from supervision import rollups
from supervision.models import Rollup
from tests.test_rollups import D, by_phone, do, file, lifecycle, own, sweep, when
from tests.test_supervision_factories import frozen
from tests.test_workload import UNTIL, generate
from workbench.selectors import COUNTED_QUEUES, Queue, QueueFilters, queue_cases, queue_counts

__all__ = ["lifecycle"]  # the fixture, imported for the tests below

EVERYONE = ("alice", "bob", "betty", "nora", "paul", "cathy", "ken", "helen", "sam", "nick", "hank")
STAFF = ("nora", "paul", "cathy", "ken", "sam", "nick")
QUERIES = (
    "",
    "kind=complaint",
    "kind=report",
    "kind=consultation",
    "status=submitted",
    "status=accepted",
    "status=closed",
    "kind=complaint&status=closed",
    "department=100000",
    "department=330100",
    "department=330106",
    "department=330106001",
    "department=330102",
    "department=330102&status=accepted",
    "department=330000&kind=report",
)
WORKBENCH_FILTERS = (
    QueueFilters(),
    QueueFilters(kind=Kind.COMPLAINT),
    QueueFilters(kind=Kind.REPORT),
    QueueFilters(status=Status.ACCEPTED),
    QueueFilters(status=Status.CLOSED, kind=Kind.COMPLAINT),
)


# Betty's business, named with its code so that the complaint is linked to it.
SHOP = {
    "name": "杭州好运来电器有限公司",
    "uscc": "91330106MA2H7KQ4L5",
    "address": "杭州市西湖区文三路90号",
}


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


def listed(api, user: User, query: str) -> tuple[int, int]:
    """(the count the API gives, how many rows its pages hold when walked to the end)."""
    rows, page, count = 0, 1, None
    while True:
        response = api.as_user(user).get(f"/api/v1/cases?page_size=200&page={page}&{query}")
        assert response.status_code == 200, response.content
        body = response.json()
        count = body["count"] if count is None else count
        rows += len(body["results"])
        if len(body["results"]) < 200:
            return count, rows
        page += 1


def assert_the_api_counts_are_exact(api, cast, queries: tuple[str, ...] = QUERIES) -> int:
    """Every caller, every filter: the count equals the rows. Returns the sum of the counts."""
    total = 0
    for name in EVERYONE:
        user: User = getattr(cast, name)
        for query in queries:
            count, rows = listed(api, user, query)
            assert count == rows, (name, query)
            total += count
    return total


def assert_the_workbench_counts_are_exact(cast, *, today: dt.date | None = None) -> int:
    """Every staff member in each of their departments: each queue's count equals its rows."""
    total = 0
    for name in STAFF:
        user: User = getattr(cast, name)
        for membership in Membership.objects.filter(user=user).select_related("department"):
            department = membership.department
            for filters in WORKBENCH_FILTERS:
                counts = queue_counts(user, department, filters, today=today)
                for queue in Queue:
                    rows = queue_cases(user, department, queue, filters, today=today).count()
                    assert counts[queue] == rows, (name, department.code, filters, queue)
                    total += counts[queue]
    return total


def assert_exact(api, cast, **options: Any) -> None:
    assert rollups.differences() == []
    assert assert_the_api_counts_are_exact(api, cast) > 0
    assert assert_the_workbench_counts_are_exact(cast, **options) > 0


# --- Through the services ----------------------------------------------------------------------


def test_the_counts_are_exact_after_every_workflow_step(api, cast, tree):
    """Intake, transfer, accept to a station, escalate, dispatch, reject, close, convert."""
    ken, nick, cathy, hank, alice = cast.ken, cast.nick, cast.cathy, cast.hank, cast.alice
    day = D(2026, 6, 1)
    moved = file(hank, "complaint", by_phone("330106", when(day)), when(day))
    mine = file(alice, "complaint", own("330106", respondent=SHOP), when(day))
    kept = file(alice, "complaint", own("330106", respondent=SHOP), when(day))
    report = file(alice, "report", own("330106"), when(day))
    question = {
        "department": "330106",
        "question": "网购商品能否七日无理由退货？",
        "received_at": when(day).isoformat(),
        "on_behalf_of": {"real_name": "王来电", "phone": "13900000009", "address": "杭州市"},
    }
    consultation = file(hank, "consultation", question, when(day))
    assert_exact(api, cast)
    steps = [
        (moved, "transfer", ken, {"department": "330102", "reason": "经营者在上城区"}),
        (moved, "accept", nick, {"handler_unit": "330102001"}),
        (kept, "accept", ken, {}),
        (kept, "start_mediation", ken, {}),
        (kept, "record_agreement", ken, {"terms": "退款", "amount_recovered": "199.00"}),
        (mine, "escalate", ken, {"reason": "管辖争议"}),
        (mine, "dispatch", cathy, {"department": "330102"}),
        (mine, "reject", nick, {"ground": "out_of_scope", "reason": "属于金融监管部门职责"}),
        (report, "accept", ken, {"handler_unit": "330106001"}),
        (report, "decide", cast.helen, {"decision": "filed", "note": "立案"}),
        (consultation, "convert", ken, {"kind": "complaint"}),
    ]
    for number, (case, action, by, params) in enumerate(steps, start=2):
        do(case, action, by, when(D(2026, 6, number)), **params)
        assert_exact(api, cast)


def test_the_counts_are_exact_over_the_whole_lifecycle(api, cast, lifecycle):
    assert_exact(api, cast, today=D(2026, 7, 20))


def test_a_case_handled_in_the_subtree_but_held_elsewhere_is_counted_once(api, cast, tree):
    case = file(
        cast.hank, "complaint", by_phone("330106", when(D(2026, 6, 1))), when(D(2026, 6, 1))
    )
    do(case, "accept", cast.ken, when(D(2026, 6, 2)), handler_unit="330106001")
    # A station moved to another county keeps the cases it handles: held by the old county.
    Case.objects.filter(pk=case.pk).update(department=tree.neighbour)
    rollups.rebuild_rollups()  # the update went past the services
    assert_exact(api, cast)
    assert listed(api, cast.ken, "department=330106001") == (1, 1)
    assert listed(api, cast.nick, "department=330106001") == (1, 1)


def test_overlapping_and_separate_memberships_count_each_case_once(api, cast, tree):
    Membership.objects.create(user=cast.sam, department=tree.county, roles=["handler"])
    Membership.objects.create(user=cast.sam, department=tree.neighbour, roles=["handler"])
    Membership.objects.create(user=cast.nick, department=tree.neighbour_station, roles=[])
    filings = (
        ("complaint", "330106"),
        ("complaint", "330102"),
        ("complaint", "330106"),
        ("report", "330100"),
    )
    for day, (kind, department) in enumerate(filings, start=1):
        moment = when(D(2026, 6, day))
        file(cast.hank, kind, by_phone(department, moment), moment)
    cast.sam.refresh_from_db()
    assert_exact(api, cast)
    assert listed(api, cast.sam, "")[0] == 3


def test_a_staff_member_who_filed_as_a_consumer_counts_their_own_case_once(api, cast, tree):
    own_case = file(
        cast.hank, "complaint", by_phone("330102", when(D(2026, 6, 1))), when(D(2026, 6, 1))
    )
    held = file(
        cast.hank, "complaint", by_phone("330106", when(D(2026, 6, 1))), when(D(2026, 6, 1))
    )
    Case.objects.filter(pk__in=[own_case.pk, held.pk]).update(consumer=cast.ken)
    assert_exact(api, cast)
    assert listed(api, cast.ken, "") == (2, 2)


def test_the_sweep_changes_no_count_it_should_not(api, cast, tree):
    for day in (1, 2):
        moment = when(D(2026, 6, day))
        file(cast.hank, "complaint", by_phone("330106", moment), moment)
    sweep(D(2026, 6, 20))  # the accept clocks go overdue; the cases stay where they are
    assert_exact(api, cast, today=D(2026, 6, 20))


# --- A generated workload ----------------------------------------------------------------------


def test_the_counts_of_a_generated_workload_are_exact(api, cast, tree):
    generate(cases=300, days=60)
    assert Case.objects.filter(status=Status.CLOSED).exists()
    assert_exact(api, cast, today=UNTIL)


def test_changes_after_a_generated_workload_keep_the_counts_exact(api, cast, tree):
    generate(cases=200, days=30)
    submitted = Case.objects.filter(
        status=Status.SUBMITTED, department_id="330106", kind=Kind.COMPLAINT
    )
    first, second = submitted[:2]
    with frozen(when(UNTIL, 9)):
        do(first, "accept", cast.ken, when(UNTIL, 9), handler_unit="330106002")
        do(second, "transfer", cast.ken, when(UNTIL, 10), department="330102", reason="管辖")
    sweep(UNTIL + dt.timedelta(days=20))
    assert_exact(api, cast, today=UNTIL + dt.timedelta(days=20))


# --- The counts come from the counters --------------------------------------------------------


def test_the_count_reads_the_counters(api, cast, tree):
    """The twin of the equality tests: the counts are the counters', so a counter off by one
    shows in the API and the workbench (which `rebuild_rollups --check` would report)."""
    file(cast.hank, "complaint", by_phone("330106", when(D(2026, 6, 1))), when(D(2026, 6, 1)))
    assert listed(api, cast.cathy, "") == (1, 1)
    key = rollups.held_key(Kind.COMPLAINT, Status.SUBMITTED)
    Rollup.objects.filter(unit="330100", metric=rollups.HELD, key=key).update(n=F("n") + 1)

    assert listed(api, cast.cathy, "") == (2, 1)
    assert listed(api, cast.cathy, "q=好运来")[0] == 1  # a search counts the cases
    assert queue_counts(cast.ken, Department.objects.get(code="330106"))[Queue.TO_ACCEPT] == 1
    assert queue_counts(cast.cathy, Department.objects.get(code="330100"))[Queue.TO_ACCEPT] == 0
    assert rollups.differences() != []


def test_held_count_takes_each_subtree_once(cast, tree):
    for department in ("330106", "330106", "330102"):
        moment = when(D(2026, 6, 1))
        file(cast.hank, "complaint", by_phone(department, moment), moment)
    city, county, neighbour = tree.city.path, tree.county.path, tree.neighbour.path
    assert held_count([county, county]) == 2
    assert held_count([city, county]) == 3
    assert held_count([county, neighbour]) == 3
    assert held_count([city], at_unit=True) == 0
    assert held_count([county], at_unit=True) == 2
    assert held_count([tree.station.path]) == 0
    assert held_count([county], statuses=[Status.CLOSED]) == 0
    assert held_count([tree.national.path], kinds=[Kind.COMPLAINT]) == 3
    assert held_count([tree.national.path], kinds=[Kind.REPORT]) == 0
    assert held_count([]) == 0


def test_a_consumer_and_a_business_are_counted_from_their_cases(api, cast, tree):
    file(cast.alice, "complaint", own("330106", respondent=SHOP), when(D(2026, 6, 1)))
    matching = Case.objects.all()
    assert count_visible(cast.alice, matching, {}) == 1
    assert count_visible(cast.betty, matching, {}) == 1
    assert count_visible(cast.bob, matching, {}) == 0


def test_only_the_status_queues_come_from_the_counters():
    assert set(COUNTED_QUEUES) == {Queue.TO_ACCEPT, Queue.IN_HAND, Queue.CLOSED}
