"""The slow list statements at 1M cases, rewritten for their indexes (docs/scaling.md): the same
rows in the same order as the rules say, for every caller and level.

- The workbench's deadline queues of a small subtree read the cases held there by the
  (department, status, id) index and look up the few handled there but held elsewhere first,
  instead of one OR over both units (which sends PostgreSQL to every open case of the country).
- Their dates are written into the statement, so a plan kept for a prepared statement still
  knows how many clocks a date range holds.
- `?department=` filters on the subtree's unit codes, not a join on every case's path, and does
  not restate the visibility of a department the caller is staff over.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache

from accounts.models import User
from cases.access import cases_visible_to, listed_under, staff_over_department, visible_among
from cases.deadlines import last_due_soon_day
from cases.models import Case, Deadline
from cases.services import perform
from departments.models import Department
from supervision.rollups import rebuild_rollups
from tests.clocks import set_clocks
from tests.test_cases_api import file, listing, numbers
from workbench.pages import page_rows
from workbench.selectors import Queue, queue_cases

EVERYONE = ("alice", "bob", "betty", "nora", "paul", "cathy", "ken", "helen", "sam", "nick", "hank")
# Who works where: (user, the department whose queues they open).
DESKS = (
    ("sam", "station"),
    ("ken", "county"),
    ("nick", "neighbour"),
    ("cathy", "city"),
    ("paul", "province"),
    ("nora", "national"),
    ("ken", "neighbour"),  # not staff over it: only what Ken may see there
)


@pytest.fixture(autouse=True)
def fast_cast(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


@pytest.fixture
def late(api, cast, tree) -> dict[str, str]:
    """Cases across the tree, accepted and handled by stations, one held by the neighbour while a
    West Lake station handles it; their clocks due on a few days, with ties."""
    made = {
        "west_lake": file(api, cast.alice),
        "west_lake_2": file(api, cast.bob),
        "station": file(api, cast.alice),
        "elsewhere": file(api, cast.bob),
        "neighbour": file(api, cast.bob, department="330102"),
        "neighbour_2": file(api, cast.alice, department="330102"),
    }
    for key in ("station", "elsewhere"):
        case = Case.objects.get(number=made[key])
        perform_accept(case, cast.ken, tree.station.code)
    Case.objects.filter(number=made["elsewhere"]).update(department=tree.neighbour)
    rebuild_rollups()  # the update went past the services (as a moved station would)
    dues = [DAY - dt.timedelta(days=d) for d in (3, 1, 3, 2, 1, 5)]
    for number, due in zip(made.values(), dues, strict=True):
        set_clocks(Deadline.objects.filter(case__number=number), due=due)
    return made


def perform_accept(case: Case, by: User, handler_unit: str) -> None:
    perform(case, "accept", by=by, handler_unit=handler_unit)


DAY = dt.date(2031, 3, 12)  # a Wednesday, after every clock of the fixture


def direct_rows(user: User, department: Department, queue: Queue, today: dt.date) -> list[str]:
    """The queue's rows by the rules, in Python: visible cases held or handled in the subtree,
    open, with a clock in the queue's window, by next due date then number."""
    visible = set(cases_visible_to(user).values_list("pk", flat=True))
    rows = []
    for case in Case.objects.filter(pk__in=visible).select_related("department", "handler_unit"):
        units = [case.department] + ([case.handler_unit] if case.handler_unit else [])
        if not case.is_open or not any(u.path.startswith(department.path) for u in units):
            continue
        clocks = [clock for clock in case.deadlines.all() if clock.is_open]
        if queue == Queue.OVERDUE:
            hit = [c for c in clocks if c.overdue or (c.due < today and c.paused_since is None)]
        else:
            soon = last_due_soon_day(today)
            hit = [
                c
                for c in clocks
                if not c.overdue
                and (
                    (today <= c.due <= soon and c.paused_since is None)
                    or (c.due_soon and c.due >= today)
                )
            ]
        if hit:
            rows.append((min(c.due for c in clocks), case.number))
    return [number for _, number in sorted(rows)]


@pytest.mark.parametrize("queue", [Queue.OVERDUE, Queue.DUE_SOON])
def test_the_deadline_rows_are_those_of_the_rules_at_every_level(cast, tree, late, queue):
    today = DAY if queue == Queue.OVERDUE else DAY - dt.timedelta(days=2)
    for name, desk in DESKS:
        user, department = getattr(cast, name), getattr(tree, desk)
        rows = [case.number for case in queue_cases(user, department, queue, today=today)]
        assert rows == direct_rows(user, department, queue, today), (name, desk)
    # The fixture reaches every branch: a West Lake queue holds the case held elsewhere.
    ken_rows = [c.number for c in queue_cases(cast.ken, tree.county, Queue.OVERDUE, today=DAY)]
    assert late["elsewhere"] in ken_rows
    assert late["neighbour"] not in ken_rows


def test_a_small_subtree_reads_the_held_cases_without_an_or_on_the_handler(cast, tree, late):
    set_clocks(Deadline.objects.filter(case__number=late["elsewhere"]), due=DAY)  # not late now
    rows = queue_cases(cast.cathy, tree.city, Queue.OVERDUE, today=DAY)
    sql = str(rows.query)
    assert '"department_id" IN' in sql
    assert '"handler_unit_id" IN' not in sql
    assert late["elsewhere"] not in [case.number for case in rows]


def test_a_case_handled_elsewhere_joins_the_rows_by_its_id(cast, tree, late):
    elsewhere = Case.objects.get(number=late["elsewhere"])
    rows = queue_cases(cast.sam, tree.station, Queue.OVERDUE, today=DAY)
    assert '"handler_unit_id" IN' not in str(rows.query)
    assert [case.number for case in rows] == [late["station"], late["elsewhere"]]
    assert elsewhere.department_id == tree.neighbour.code


@pytest.mark.parametrize("queue", [Queue.OVERDUE, Queue.DUE_SOON])
def test_the_dates_are_written_into_the_statement(cast, tree, late, queue):
    today = dt.date(2031, 3, 10)
    for name, desk in (("ken", "county"), ("paul", "province"), ("nora", "national")):
        rows = queue_cases(getattr(cast, name), getattr(tree, desk), queue, today=today)
        sql, params = rows.query.sql_with_params()
        assert not [p for p in params if isinstance(p, dt.date)], (name, queue)
        assert "2031-03-10" in sql or "2031-03-09" in sql


@pytest.mark.parametrize("sort", ["", "-next_due", "number", "-received_at", "unit"])
def test_a_page_picked_by_its_keys_is_the_slice_of_the_queue(cast, tree, late, sort):
    for name, desk in DESKS:
        user, department = getattr(cast, name), getattr(tree, desk)
        for queue in Queue:
            cases = queue_cases(user, department, queue, sort=sort, today=DAY)
            ordered = list(cases)
            for bottom, top in ((0, 2), (1, 4), (0, 50), (5, 9)):
                picked = page_rows(cases, bottom, top)
                assert picked == ordered[bottom:top], (name, desk, queue, sort, bottom)


def test_a_subtrees_next_due_keys_name_only_what_the_index_holds(cast, tree, late):
    """A page's keys of a queue sorted by next due date read only columns `case_dept_status_due`
    holds, so PostgreSQL can answer them from the index alone: at 10M cases a city's in-hand page
    went from 116 ms (30,000 rows fetched to be sorted) to 11 ms."""
    (index,) = [i for i in Case._meta.indexes if i.name == "case_dept_status_due"]
    held = {Case._meta.get_field(name).column for name in (*index.fields, *index.include)}
    for name, desk in (("cathy", "city"), ("ken", "county"), ("paul", "province")):
        user, department = getattr(cast, name), getattr(tree, desk)
        for queue in (Queue.IN_HAND, Queue.DUE_SOON, Queue.OVERDUE):
            keys = queue_cases(user, department, queue, today=DAY).values_list("pk")[:50]
            sql = str(keys.query)  # the deadline queues' probe of the clocks correlates on id
            assert "JOIN" not in sql, (name, queue)
            assert '"cases_case"."number"' in sql  # the sort's tie-break, read too
            assert set(re.findall(r'"cases_case"\."(\w+)"', sql)) <= held, (name, queue, sql)


def direct_department(user: User, department: Department) -> set[str]:
    """`?department=` by the rules: visible, held in the subtree, or handled there for staff
    over the case."""
    found = set()
    for case in cases_visible_to(user).select_related("department", "handler_unit"):
        held = case.department.path.startswith(department.path)
        handler = case.handler_unit
        handled = handler is not None and handler.path.startswith(department.path)
        staff = handler is not None and any(
            unit.path.startswith(path)
            for unit in (case.department, handler)
            for path in [m.department.path for m in user.memberships.all()]
        )
        if held or (handled and staff):
            found.add(case.number)
    return found


def test_a_department_filter_lists_what_the_rules_say_for_everyone(api, cast, tree, late):
    for name in EVERYONE:
        user = getattr(cast, name)
        for department in Department.objects.all():
            page = listing(api, user, f"?department={department.code}&page_size=200")
            expected = direct_department(user, department)
            assert set(numbers(page)) == expected, (name, department.code)
            assert page["count"] == len(expected), (name, department.code)


def test_the_filter_is_on_unit_codes_not_paths(cast, tree):
    condition = str(Case.objects.filter(listed_under(cast.cathy, tree.county)).query)
    assert "path" not in condition
    assert '"department_id" IN' in condition


def test_the_visibility_is_restated_only_outside_the_callers_subtrees(cast, tree, late):
    for name in EVERYONE:
        user = getattr(cast, name)
        for department in Department.objects.all():
            matching = Case.objects.filter(listed_under(user, department))
            cases = visible_among(user, matching, department.code)
            expected = matching & cases_visible_to(user)
            assert set(cases) == set(expected), (name, department.code)
            if staff_over_department(user, department):
                assert str(cases.query) == str(matching.query)
    # Without a department filter, the visibility always applies.
    everything = Case.objects.all()
    assert set(visible_among(cast.ken, everything, None)) == set(cases_visible_to(cast.ken))


@pytest.mark.django_db
def test_web_connections_start_no_parallel_workers():
    """A page's statements are short index reads; the connection settings turn parallel query
    off (DATABASE_PARALLEL_WORKERS), which cut the city deadline queue from 51 to 30 ms."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone() == ("0",)


@pytest.mark.django_db
def test_web_connections_compile_no_statement():
    """JIT compilation (DATABASE_JIT) cost a county's queue counts ~240 ms at 10M cases, for a
    statement the planner overestimated that read no row."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
