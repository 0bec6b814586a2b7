"""The statistics overview: its figures equal direct counts over random data, it covers only the
caller's subtrees, and it refuses bad periods.

The property test writes random cases and clocks straight into the tables (any state, date, unit)
and recomputes every figure in plain Python from what it wrote: the oracle shares no code with
`supervision.stats`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.models import Case, Channel, ClockKind, Deadline, Kind, Status
from cases.rules import SHANGHAI
from departments.models import Department
from supervision.rollups import rebuild_rollups
from supervision.stats import Period, cases_behind, overview
from tests.test_supervision_factories import file_complaint

TODAY = dt.date(2026, 6, 30)
_numbers = itertools.count(1)

# The unit holding a case -> (its department, its handling unit).
HOLDERS = {
    "330000": ("330000", None),
    "330100": ("330100", None),
    "330106": ("330106", "330106"),
    "330106001": ("330106", "330106001"),
    "330106002": ("330106", "330106002"),
    "330102": ("330102", None),
    "330102001": ("330102", "330102001"),
}
STATES = [
    (Status.SUBMITTED, ""),
    (Status.ACCEPTED, ""),
    (Status.MEDIATING, ""),
    (Status.VERIFYING, ""),
    (Status.CLOSED, "mediated"),
    (Status.CLOSED, "terminated"),
    (Status.CLOSED, "rejected"),
]
OPEN = ["submitted", "accepted", "mediating", "verifying"]


def moment(offset: int, hour: int) -> dt.datetime:
    day = TODAY + dt.timedelta(days=offset)
    return dt.datetime(day.year, day.month, day.day, hour, 30, tzinfo=SHANGHAI)


offsets = st.integers(-45, 0)
hours = st.sampled_from([0, 9, 23])  # 00:30 and 23:30 in Shanghai fall on other UTC dates
clocks = st.fixed_dictionaries(
    {
        "due": st.integers(-45, 5),
        "met": st.none() | st.tuples(st.integers(-2, 2), hours),  # days after the due date
        "overdue": st.booleans(),
        "due_soon": st.booleans(),
        "cancelled": st.booleans(),
    }
)
cases = st.fixed_dictionaries(
    {
        "holder": st.sampled_from(list(HOLDERS)),
        "kind": st.sampled_from(Kind.values),
        "channel": st.sampled_from(Channel.values),
        "received": st.tuples(offsets, hours),
        "state": st.sampled_from(STATES),
        "closed": st.tuples(offsets, hours),
        "recovered": st.sampled_from([None, Decimal("0.00"), Decimal("12.30"), Decimal("999.99")]),
        "rating": st.none() | st.tuples(st.integers(1, 5), offsets, hours),
        "clocks": st.lists(clocks, max_size=2),
    }
)
periods = st.tuples(offsets, offsets).map(sorted)


def write(spec: dict[str, Any], creator) -> None:
    department, handler = HOLDERS[spec["holder"]]
    status, outcome = spec["state"]
    case = Case.objects.create(
        number=f"TSTAT{next(_numbers):010d}",
        kind=spec["kind"],
        status=status,
        outcome=outcome,
        rules="o121",
        channel=spec["channel"],
        department_id=department,
        handler_unit_id=handler,
        received_at=moment(*spec["received"]),
        created_by=creator,
        party_name="王来电",
        party_phone="13900000009",
        closed_at=moment(*spec["closed"]) if status == Status.CLOSED else None,
        amount_recovered=spec["recovered"],
        satisfaction=spec["rating"][0] if spec["rating"] else None,
        rated_at=moment(*spec["rating"][1:]) if spec["rating"] else None,
    )
    for clock in spec["clocks"]:
        Deadline.objects.create(
            case=case,
            kind=ClockKind.ACCEPT,
            department_id=spec["holder"],
            started_on=TODAY - dt.timedelta(days=60),
            due=TODAY + dt.timedelta(days=clock["due"]),
            met_at=moment(clock["due"] + clock["met"][0], clock["met"][1])
            if clock["met"]
            else None,
            overdue=clock["overdue"],
            due_soon=clock["due_soon"],
            cancelled=clock["cancelled"],
        )


# --- the oracle -------------------------------------------------------------------------------


def local_day(offset_hour: tuple[int, int]) -> dt.date:
    return moment(*offset_hour).astimezone(SHANGHAI).date()


def ratio(numerator: int, denominator: int, places: int) -> float | None:
    return round(numerator / denominator, places) if denominator else None


def expected_figures(specs: list[dict[str, Any]], period: Period) -> dict[str, Any]:
    def inside(offset_hour: tuple[int, int]) -> bool:
        return period.start <= local_day(offset_hour) <= period.end

    received = dict.fromkeys(Kind.values, 0)
    open_ = dict.fromkeys(OPEN, 0)
    counts: dict[str, Any] = defaultdict(int)
    recovered = Decimal("0.00")
    for spec in specs:
        status, outcome = spec["state"]
        closed = status == Status.CLOSED
        if inside(spec["received"]):
            received[spec["kind"]] += 1
        if not closed:
            open_[status] += 1
        running = [c for c in spec["clocks"] if c["met"] is None and not c["cancelled"]]
        counts["overdue"] += not closed and any(c["overdue"] for c in running)
        counts["due_soon"] += not closed and any(c["due_soon"] for c in running)
        for clock in spec["clocks"]:
            due = TODAY + dt.timedelta(days=clock["due"])
            decided = clock["met"] is not None or clock["overdue"]
            if clock["cancelled"] or not decided or not period.start <= due <= period.end:
                continue
            counts["decided"] += 1
            counts["on_time"] += clock["met"] is not None and clock["met"][0] <= 0
        if closed and inside(spec["closed"]):
            counts["mediated"] += outcome == "mediated"
            counts["terminated"] += outcome == "terminated"
            recovered += spec["recovered"] or Decimal("0.00")
        if spec["rating"] and inside(spec["rating"][1:]):
            counts["ratings"] += 1
            counts["rating_sum"] += spec["rating"][0]
    return {
        "received": received,
        "open": open_,
        "overdue": counts["overdue"],
        "due_soon": counts["due_soon"],
        "on_time_rate": ratio(counts["on_time"], counts["decided"], 4),
        "mediation_success_rate": ratio(
            counts["mediated"], counts["mediated"] + counts["terminated"], 4
        ),
        "satisfaction": ratio(counts["rating_sum"], counts["ratings"], 2),
        "amount_recovered": f"{recovered:.2f}",
    }


def held_under(spec: dict[str, Any], path: str, paths: dict[str, str]) -> bool:
    return paths[spec["holder"]].startswith(path)


def child_of(spec: dict[str, Any], department: Department, paths: dict[str, str]) -> str:
    rest = paths[spec["holder"]][len(department.path) :]
    return rest.split("/")[0]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(cases, min_size=1, max_size=8),
    code=st.sampled_from(["100000", "330000", "330100", "330106", "330102", "330106001"]),
    bounds=periods,
)
def test_the_overview_equals_direct_counts_over_random_data(cast, tree, specs, code, bounds):
    period = Period(TODAY + dt.timedelta(days=bounds[0]), TODAY + dt.timedelta(days=bounds[1]))
    paths = dict(Department.objects.values_list("code", "path"))
    department = Department.objects.get(code=code)
    with transaction.atomic():
        for spec in specs:
            write(spec, cast.hank)
        rebuild_rollups()  # the rows were written straight into the tables, past the services

        result = overview(department=department, period=period).as_dict()

        mine = [s for s in specs if held_under(s, department.path, paths)]
        total = {key: result[key] for key in expected_figures([], period)}
        assert total == expected_figures(mine, period)
        children = Department.objects.filter(parent=department).order_by("code")
        assert [c["department"]["code"] for c in result["by_child"]] == [c.code for c in children]
        for child in result["by_child"]:
            code_ = child["department"]["code"]
            theirs = [s for s in mine if child_of(s, department, paths) == code_]
            assert {key: child[key] for key in total} == expected_figures(theirs, period)
        received = [s for s in mine if period.start <= local_day(s["received"]) <= period.end]
        assert sum(result["received_by_channel"].values()) == len(received)
        assert sum(day["count"] for day in result["received_by_day"]) == len(received)
        for channel in Channel.values:
            assert result["received_by_channel"][channel] == sum(
                s["channel"] == channel for s in received
            )

        def behind(metric: str, value: str = "") -> int:
            rows = cases_behind(department=department, period=period, metric=metric, value=value)
            return rows.count()

        assert behind("received") == len(received)
        assert behind("open") == sum(result["open"].values())
        assert behind("overdue") == result["overdue"]
        assert behind("due_soon") == result["due_soon"]
        for kind, n in result["received"].items():
            assert behind("received", kind) == n
        transaction.set_rollback(True)


def test_a_station_counts_the_flags_of_the_cases_it_handles(cast, tree):
    """A case handled by a station counts its flags at the station (its holder), under the
    station as the county's child."""
    late = {"due": -3, "met": None, "overdue": True, "due_soon": False, "cancelled": False}
    soon = {**late, "due": 1, "overdue": False, "due_soon": True}
    for holder, clocks in (("330106001", [late, soon]), ("330106", [soon]), ("330102", [late])):
        write(
            {
                "holder": holder, "kind": Kind.COMPLAINT, "channel": Channel.WEB,
                "received": (-2, 9), "state": (Status.ACCEPTED, ""), "closed": (0, 9),
                "recovered": None, "rating": None, "clocks": clocks,
            },
            cast.hank,
        )  # fmt: skip
    rebuild_rollups()  # the rows were written straight into the tables, past the services
    period = Period(TODAY - dt.timedelta(days=29), TODAY)
    station = overview(department=Department.objects.get(code="330106001"), period=period)
    county = overview(department=Department.objects.get(code="330106"), period=period)

    assert (station.as_dict()["overdue"], station.as_dict()["due_soon"]) == (1, 1)
    assert (county.as_dict()["overdue"], county.as_dict()["due_soon"]) == (1, 2)
    by_child = {c["department"]["code"]: c for c in county.as_dict()["by_child"]}
    assert (by_child["330106001"]["overdue"], by_child["330106001"]["due_soon"]) == (1, 1)


# --- the endpoint -----------------------------------------------------------------------------


def overview_of(api, user, query=""):
    return api.as_user(user).get(f"/api/v1/stats/overview{query}")


def test_the_overview_has_the_documented_keys_and_defaults_to_the_last_30_days(api, cast):
    body = overview_of(api, cast.cathy).json()

    assert {
        "department",
        "from",
        "to",
        "received",
        "open",
        "overdue",
        "due_soon",
        "on_time_rate",
        "mediation_success_rate",
        "satisfaction",
        "amount_recovered",
        "by_child",
    } <= set(body)
    assert body["department"] == "330100"  # Cathy's own department by default
    start, end = dt.date.fromisoformat(body["from"]), dt.date.fromisoformat(body["to"])
    assert (end - start).days == 29
    assert body["received"] == {"complaint": 0, "report": 0, "consultation": 0}
    assert body["amount_recovered"] == "0.00"
    assert [c["department"] for c in body["by_child"]] == [
        {"code": "330102", "name": "上城区"},
        {"code": "330106", "name": "西湖区"},
    ]


def test_a_case_filed_through_intake_is_counted_by_its_shanghai_date(api, cast):
    case = file_complaint(cast.hank, received_on=dt.date(2026, 6, 1))
    Case.objects.filter(pk=case.pk).update(
        received_at=dt.datetime(2026, 6, 1, 0, 30, tzinfo=SHANGHAI)  # 31 May in UTC
    )
    rebuild_rollups()  # the update went past the services

    on_the_day = overview_of(api, cast.ken, "?from=2026-06-01&to=2026-06-01").json()
    day_before = overview_of(api, cast.ken, "?from=2026-05-31&to=2026-05-31").json()

    assert on_the_day["received"]["complaint"] == 1
    assert on_the_day["received_by_day"] == [{"date": "2026-06-01", "count": 1}]
    assert on_the_day["received_by_channel"]["hotline"] == 1
    assert day_before["received"]["complaint"] == 0


def test_a_department_outside_my_subtree_is_404(api, cast):
    response = overview_of(api, cast.nick, "?department=330106")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert overview_of(api, cast.nick, "?department=330102").status_code == 200  # the twin
    assert overview_of(api, cast.ken, "?department=330106").status_code == 200


def test_a_department_above_mine_is_404(api, cast):
    assert overview_of(api, cast.cathy, "?department=330000").status_code == 404
    assert overview_of(api, cast.cathy, "?department=330106001").status_code == 200


def test_an_unknown_department_is_404(api, cast):
    assert overview_of(api, cast.nora, "?department=999999").status_code == 404


def test_a_consumer_is_refused(api, cast):
    assert overview_of(api, cast.alice).status_code == 403


def test_without_a_token_it_is_401(api, cast):
    assert api.as_user(None).get("/api/v1/stats/overview").status_code == 401


@pytest.mark.parametrize(
    "query",
    [
        "?from=2026-06-02&to=2026-06-01",  # reversed
        "?from=2023-05-31&to=2026-06-01",  # over three years
        "?from=2026-13-01",  # not a date
        "?to=yesterday",
        "?from=20260501&to=20260601",  # compact: the API writes dates YYYY-MM-DD only
        "?from=2026-W18-1",  # an ISO week date
    ],
)
def test_bad_periods_are_422(api, cast, query):
    response = overview_of(api, cast.cathy, query)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["fields"]


def test_exactly_three_years_is_allowed(api, cast):
    response = overview_of(api, cast.cathy, "?from=2023-06-01&to=2026-06-01")
    assert response.status_code == 200
    assert len(response.json()["received_by_day"]) == 1097
