"""The monitoring rollups: kept exact by every service that changes a case, so the overview read
from them equals the overview counted straight from the cases (`overview_direct`) at every
level and for any period; rebuilt from a generated workload; audited by `rebuild_rollups --check`.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count, F
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from cases.intake import submit_case
from cases.models import Case, Deadline, Status
from cases.rules import SHANGHAI
from cases.services import InvalidAction, perform
from departments.models import Department
from notifications.tasks import deliver_pending
from supervision import rollups
from supervision.models import Rollup
from supervision.stats import Period, overview, overview_direct
from supervision.sweeps import mark_clocks, sweep_deadlines
from tests.test_supervision_factories import complaint_payload, frozen, two_working_days_before
from tests.test_workload import UNTIL, generate

UNITS = ["100000", "330000", "330100", "330106", "330106001", "330106002", "330102", "330102001"]
D = dt.date
PERIODS = [
    (D(2026, 5, 31), D(2026, 5, 31)),  # 00:30 on 1 June in Shanghai is still 31 May in UTC
    (D(2026, 6, 1), D(2026, 6, 1)),
    (D(2026, 6, 10), D(2026, 6, 12)),
    (D(2026, 6, 1), D(2026, 6, 30)),
    (D(2026, 5, 1), D(2026, 8, 31)),
]


def when(day: dt.date, hour: int = 11, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def file(by: User, kind: str, payload: dict[str, Any], moment: dt.datetime) -> Case:
    with frozen(moment):
        return submit_case(kind=kind, by=by, payload=payload)


def by_phone(department: str, moment: dt.datetime, **extra: Any) -> dict[str, Any]:
    """A hotline entry received at `moment` (the agent records the time of the call)."""
    return complaint_payload(department, received_at=moment.isoformat(), **extra)


def own(department: str, **extra: Any) -> dict[str, Any]:
    """The consumer's own submission (no caller details: the account is the complainant)."""
    payload = complaint_payload(department, **extra)
    del payload["on_behalf_of"]
    return payload


def do(case: Case, action: str, by: User, moment: dt.datetime, **params: Any) -> Case:
    with frozen(moment):
        return perform(case, action, by=by, **params)


def sweep(day: dt.date) -> None:
    with frozen(when(day, 1)):
        sweep_deadlines(today=day)


def deliver(day: dt.date) -> None:
    with frozen(when(day, 12)):
        deliver_pending()


def assert_the_rollups_are_exact(units: list[str], periods: list[tuple[dt.date, dt.date]]) -> None:
    assert rollups.differences() == []
    for code in units:
        department = Department.objects.get(code=code)
        for start, end in periods:
            period = Period(start, end)
            expected = overview_direct(department=department, period=period).as_dict()
            assert overview(department=department, period=period).as_dict() == expected, (
                code,
                start,
                end,
            )


@pytest.fixture
def lifecycle(cast, tree, settings) -> dict[str, Case]:
    """Cases driven through intake, `perform`, the sweep and the outbox over June 2026."""
    settings.SMS_BACKEND = "locmem"
    hank, ken, sam, nick, helen, alice = (
        cast.hank,
        cast.ken,
        cast.sam,
        cast.nick,
        cast.helen,
        cast.alice,
    )
    cases: dict[str, Case] = {}
    # Mediated at a station, rated late in the evening; received 00:30 (31 May in UTC).
    mediated = file(alice, "complaint", own("330106"), when(D(2026, 6, 1), 0, 30))
    do(mediated, "accept", ken, when(D(2026, 6, 2)), handler_unit="330106001")
    do(mediated, "start_mediation", sam, when(D(2026, 6, 3)))
    do(
        mediated,
        "record_agreement",
        sam,
        when(D(2026, 6, 8)),
        terms="退款",
        amount_recovered="199.50",
    )
    cases["mediated"] = do(
        mediated, "rate", alice, when(D(2026, 6, 9), 23, 30), satisfaction=4, resolved=True
    )
    # Transferred to the neighbouring county, which hands it to its station.
    moved = file(hank, "complaint", by_phone("330106", when(D(2026, 6, 1))), when(D(2026, 6, 1)))
    do(moved, "transfer", ken, when(D(2026, 6, 2)), department="330102", reason="经营者在上城区")
    cases["moved"] = do(moved, "accept", nick, when(D(2026, 6, 3)), handler_unit="330102001")
    # Left unaccepted: the sweep marks its accept clock overdue, then it is accepted late.
    late = file(hank, "complaint", by_phone("330106", when(D(2026, 6, 1))), when(D(2026, 6, 1)))
    # Escalated to the city, dispatched to the neighbour, rejected there.
    escalated = file(
        hank, "complaint", by_phone("330106", when(D(2026, 6, 2))), when(D(2026, 6, 2))
    )
    do(escalated, "escalate", ken, when(D(2026, 6, 3)), reason="管辖争议")
    do(escalated, "dispatch", cast.cathy, when(D(2026, 6, 4)), department="330102")
    cases["rejected"] = do(
        escalated,
        "reject",
        nick,
        when(D(2026, 6, 5)),
        ground="out_of_scope",
        reason="属于金融监管部门职责",
    )
    # Withdrawn by the consumer, then rated.
    withdrawn = file(alice, "complaint", own("330106"), when(D(2026, 6, 3)))
    do(withdrawn, "withdraw", alice, when(D(2026, 6, 4)), reason="已和解")
    cases["withdrawn"] = do(
        withdrawn, "rate", alice, when(D(2026, 6, 5)), satisfaction=2, resolved=False
    )
    # Mediation paused and resumed, under a supervision order from the city.
    paused = file(hank, "complaint", by_phone("330106", when(D(2026, 6, 2))), when(D(2026, 6, 2)))
    do(paused, "accept", ken, when(D(2026, 6, 2)))
    do(paused, "start_mediation", ken, when(D(2026, 6, 2)))
    do(paused, "pause", ken, when(D(2026, 6, 3)), reason="送检")
    do(paused, "resume", ken, when(D(2026, 6, 10)))
    cases["paused"] = do(
        paused, "supervise", cast.cathy, when(D(2026, 6, 11)), instructions="请按期办理"
    )
    # Mediation terminated: the notice clock is met when the outbox delivers the notices.
    terminated = file(alice, "complaint", own("330106"), when(D(2026, 6, 4)))
    do(terminated, "accept", ken, when(D(2026, 6, 4)))
    do(terminated, "start_mediation", ken, when(D(2026, 6, 5)))
    cases["terminated"] = do(
        terminated,
        "terminate",
        ken,
        when(D(2026, 6, 8)),
        ground="no_agreement_possible",
        note="被投诉人拒绝退款",
    )
    # A report verified, paused, extended and decided; its decision notice met by the outbox.
    report = file(alice, "report", own("330106", notify_me=True), when(D(2026, 6, 2), 23, 59))
    do(report, "accept", ken, when(D(2026, 6, 3)))
    do(report, "pause", ken, when(D(2026, 6, 8)), reason="检测")
    do(report, "resume", ken, when(D(2026, 6, 10)))
    do(report, "extend", helen, when(D(2026, 6, 11)), reason="案情复杂")
    cases["report"] = do(
        report, "decide", helen, when(D(2026, 6, 19)), decision="filed", note="立案"
    )
    # A report held by the city itself (the "" group of the city).
    cases["city"] = file(
        hank, "report", by_phone("330100", when(D(2026, 6, 5))), when(D(2026, 6, 5))
    )
    # A consultation converted into a complaint (a second case filed by `perform`).
    question = {
        "department": "330106",
        "question": "网购商品能否七日无理由退货？",
        "received_at": when(D(2026, 6, 4)).isoformat(),
        "on_behalf_of": {"real_name": "王来电", "phone": "13900000009", "address": "杭州市"},
    }
    consultation = file(hank, "consultation", question, when(D(2026, 6, 4)))
    cases["converted"] = do(consultation, "convert", ken, when(D(2026, 6, 5)), kind="complaint")

    deliver(D(2026, 6, 9))
    sweep(D(2026, 6, 11))  # the accept clocks of `late` and `city` (due 10 June) go overdue
    cases["late"] = do(late, "accept", ken, when(D(2026, 6, 12)))
    deliver(D(2026, 6, 20))
    sweep(D(2026, 7, 20))
    return cases


def test_the_overview_from_the_rollups_equals_direct_counts_at_every_level(lifecycle):
    assert_the_rollups_are_exact(UNITS, PERIODS)


def test_the_lifecycle_touches_every_figure(lifecycle):
    """The twin of the equality test: the figures compared are not all zero."""
    june = Period(D(2026, 6, 1), D(2026, 6, 30))
    national = overview(department=Department.objects.get(code="100000"), period=june).total
    assert national.received_total == 11
    assert national.open_total == Case.objects.exclude(status=Status.CLOSED).count() > 0
    assert (national.mediated, national.terminated, national.ratings) == (1, 1, 2)
    assert national.amount_recovered == pytest.approx(199.5)
    assert national.clocks_decided > national.clocks_on_time > 0
    assert Deadline.objects.filter(overdue=True, met_at__isnull=False).exists()
    assert Deadline.objects.filter(kind="notify_termination", met_at__isnull=False).exists()


def test_the_held_rows_count_every_case_along_its_departments_path(lifecycle):
    for code in UNITS:
        path = Department.objects.get(code=code).path
        cases = Case.objects.filter(department__path__startswith=path)
        expected = {f"{kind}/{status}": n for kind, status, n in _by_kind_and_status(cases)}
        rows = Rollup.objects.filter(unit=code, metric=rollups.HELD, day=rollups.NOW)
        stored: dict[str, int] = {}
        for key, n in rows.values_list("key", "n"):
            stored[key] = stored.get(key, 0) + n
        assert {key: n for key, n in stored.items() if n} == expected, code
    assert Rollup.objects.filter(metric=rollups.HELD, unit="100000").exists()


def _by_kind_and_status(cases: Any) -> list[tuple[str, str, int]]:
    return list(
        cases.order_by()
        .values_list("kind", "status")
        .annotate(n=Count("pk"))
        .values_list("kind", "status", "n")
    )


@pytest.mark.parametrize("bulk", [False, True], ids=["in-place", "bulk"])
def test_a_rebuild_writes_the_rows_the_services_kept(lifecycle, bulk):
    kept = set(
        Rollup.objects.exclude(n=0).values_list("unit", "child", "day", "metric", "key", "n")
    )

    rollups.rebuild_rollups(bulk=bulk)

    rebuilt = set(Rollup.objects.values_list("unit", "child", "day", "metric", "key", "n"))
    assert rebuilt == kept
    assert_the_rollups_are_exact(["100000", "330106"], PERIODS[3:])


def flags(code: str) -> tuple[int, int]:
    """(overdue, due soon) of the unit's overview, read from the rollups."""
    figures = overview(department=Department.objects.get(code=code), period=Period(*PERIODS[3]))
    return figures.total.overdue, figures.total.due_soon


def test_the_now_flags_follow_every_mark_the_sweep_and_perform_make(cast, tree):
    """FLAGGED counts a case, not a clock: marked due soon and then overdue by the sweep,
    un-marked when its clock is met, paused (the next sweep) or moved on by a resume."""
    waiting = file(
        cast.hank, "complaint", by_phone("330106", when(D(2026, 6, 1))), when(D(2026, 6, 1))
    )
    paused = file(
        cast.hank, "complaint", by_phone("330106", when(D(2026, 6, 1))), when(D(2026, 6, 1))
    )
    due = Deadline.objects.get(case=waiting).due
    soon = two_working_days_before(due)
    units, periods = ["100000", "330000", "330100", "330106"], PERIODS[3:4]

    sweep(soon)
    assert flags("330106") == flags("100000") == (0, 2)
    assert_the_rollups_are_exact(units, periods)

    do(paused, "accept", cast.ken, when(soon, 9))  # the accept clock met, mediation's starts
    do(paused, "start_mediation", cast.ken, when(soon, 10))
    do(paused, "pause", cast.ken, when(soon, 11), reason="送检")
    assert flags("330106") == (0, 1)
    sweep(due + dt.timedelta(days=1))  # `waiting` overdue
    assert flags("330106") == flags("330000") == (1, 0)
    assert_the_rollups_are_exact(units, periods)

    do(waiting, "accept", cast.ken, when(due + dt.timedelta(days=1), 9))
    assert flags("330106") == (0, 0)
    assert_the_rollups_are_exact(units, periods)


def test_a_clue_referred_in_mediation_counts_as_a_report_received_and_verifying(cast, tree):
    moment = when(D(2026, 6, 1))
    complaint = file(cast.hank, "complaint", by_phone("330106", moment), moment)
    do(complaint, "accept", cast.ken, when(D(2026, 6, 2)))
    do(complaint, "start_mediation", cast.ken, when(D(2026, 6, 2)))
    do(complaint, "refer_clue", cast.ken, when(D(2026, 6, 3)), note="涉嫌销售不合格产品")

    figures = overview(department=Department.objects.get(code="330106"), period=Period(*PERIODS[3]))
    assert figures.total.received == {"complaint": 1, "report": 1, "consultation": 0}
    assert {status: n for status, n in figures.total.open.items() if n} == {
        "mediating": 1,
        "verifying": 1,
    }
    assert_the_rollups_are_exact(["100000", "330106"], PERIODS[3:4])


def test_the_upgrade_counts_the_flags_the_services_keep(lifecycle):
    """`recount_flags` (migration supervision 0006) writes the FLAGGED rows the services kept,
    and running it again changes nothing."""
    flagged = Rollup.objects.filter(metric=rollups.FLAGGED).exclude(n=0)
    kept = set(flagged.values_list("unit", "child", "day", "key", "n"))
    assert kept, "the lifecycle leaves flagged cases"

    Rollup.objects.filter(metric=rollups.FLAGGED).update(n=0)
    rollups.recount_flags()
    rollups.recount_flags()

    assert set(flagged.values_list("unit", "child", "day", "key", "n")) == kept
    assert_the_rollups_are_exact(["100000", "330106"], PERIODS[3:])


def test_a_perform_counts_its_change_in_one_upsert(cast, tree):
    case = file(
        cast.hank, "complaint", by_phone("330106", when(D(2026, 6, 1))), when(D(2026, 6, 1))
    )

    with CaptureQueriesContext(connection) as queries:
        do(case, "accept", cast.ken, when(D(2026, 6, 2)), handler_unit="330106001")

    upserts = [q["sql"] for q in queries if "supervision_rollup" in q["sql"]]
    assert len(upserts) == 1 and "ON CONFLICT" in upserts[0]
    assert_the_rollups_are_exact(["100000", "330106", "330106001"], PERIODS[1:2])


def test_an_upsert_adds_to_the_rows_whatever_their_number(tree):
    def rows(n: int, amount: str, units: list[str]) -> rollups.Counts:
        cell = (rollups.CLOSED, D(2026, 6, 1), "")
        return rollups.spread("/".join(units) + "/", rollups.Counts({cell: (n, Decimal(amount))}))

    one = rows(1, "10.50", ["100000"])
    three = rows(2, "0.25", ["100000", "330000", "330100"])
    statements = rollups.upsert_statements(one) + rollups.upsert_statements(three)
    if connection.vendor == "postgresql":  # one prepared text, seven array parameters
        assert statements[0][0] == statements[1][0]
        assert [len(params) for _, params in statements] == [7, 7]

    assert rollups.upsert(one) == 1
    assert rollups.upsert(three) == 3
    assert rollups.upsert(rows(-1, "-0.25", ["100000", "330000"])) == 2

    stored = Rollup.objects.filter(metric=rollups.CLOSED).values_list(
        "unit", "child", "n", "amount"
    )
    assert sorted(stored) == [
        ("100000", "", 1, Decimal("10.50")),
        ("100000", "330000", 1, Decimal("0.00")),
        ("330000", "", -1, Decimal("-0.25")),
        ("330000", "330100", 2, Decimal("0.25")),
        ("330100", "", 2, Decimal("0.25")),
    ]


def test_a_refused_action_changes_no_rollup(cast, tree):
    case = file(
        cast.hank, "complaint", by_phone("330106", when(D(2026, 6, 1))), when(D(2026, 6, 1))
    )
    before = list(Rollup.objects.values_list("unit", "child", "metric", "day", "key", "n"))

    with pytest.raises(InvalidAction):
        do(case, "record_agreement", cast.ken, when(D(2026, 6, 2)), terms="x", amount_recovered=1)

    assert list(Rollup.objects.values_list("unit", "child", "metric", "day", "key", "n")) == before


# --- A generated workload ----------------------------------------------------------------------


def test_a_generated_workload_is_rolled_up_exactly(cast, tree):
    generate(cases=300, days=60)

    assert Rollup.objects.exists()
    last_month = [(UNTIL - dt.timedelta(days=30), UNTIL), (UNTIL - dt.timedelta(days=60), UNTIL)]
    assert_the_rollups_are_exact(["100000", "330000", "330100", "330106", "330102"], last_month)


def test_changes_after_a_generated_workload_stay_exact(cast, tree):
    generate(cases=200, days=30)
    submitted = Case.objects.filter(status=Status.SUBMITTED, department_id="330106").first()
    assert submitted is not None
    with frozen(when(UNTIL, 9)):
        perform(submitted, "accept", by=cast.ken, handler_unit="330106002")
    sweep(UNTIL + dt.timedelta(days=20))

    assert_the_rollups_are_exact(
        ["100000", "330106"], [(UNTIL - dt.timedelta(days=30), UNTIL + dt.timedelta(days=40))]
    )


# --- The audit command -------------------------------------------------------------------------


def check() -> str:
    out = io.StringIO()
    call_command("rebuild_rollups", "--check", stdout=out)
    return out.getvalue()


def test_check_passes_on_exact_rollups_and_names_a_tampered_row(lifecycle):
    assert "exact" in check()
    row = Rollup.objects.filter(unit="330100", metric="received", n__gt=0).first()
    Rollup.objects.filter(pk=row.pk).update(n=F("n") + 1)

    with pytest.raises(CommandError, match="1 rollup rows differ"):
        check()
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("rebuild_rollups", "--check", stdout=out)
    assert f"unit=330100 child={row.child or '-'} received/{row.key}" in out.getvalue()
    assert f"stored n={row.n + 1}" in out.getvalue()
    assert f"expected n={row.n}" in out.getvalue()


def test_check_finds_a_missing_and_an_invented_row(lifecycle):
    Rollup.objects.filter(unit="330106001", metric="closed").delete()
    Rollup.objects.create(
        unit_id="330102", child="", day=D(2026, 6, 1), metric="open", key="x", n=1
    )

    with pytest.raises(CommandError, match="rollup rows differ"):
        check()


def test_the_command_rebuilds_a_damaged_table(lifecycle):
    Rollup.objects.all().delete()
    out = io.StringIO()

    call_command("rebuild_rollups", stdout=out)

    assert "rollup rows written" in out.getvalue()
    assert "exact" in check()
    assert_the_rollups_are_exact(["100000", "330106"], PERIODS[3:4])


# --- The sweep's marks beside concurrent writers (two real connections) -----------------------

needs_postgresql = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs two real connections (PostgreSQL)",
)


def in_threads(*targets: Callable[[], object]) -> dict[str, BaseException]:
    """Run each target in its own thread (own connection); the errors they raised, by name."""
    errors: dict[str, BaseException] = {}

    def run(target: Callable[[], object]) -> None:
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors[getattr(target, "__name__", "target")] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    return errors


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_an_action_holding_the_case_makes_the_sweep_wait_and_both_are_counted(cast, tree):
    # Given a complaint whose accept clock turns due soon today
    waiting = file(
        cast.hank, "complaint", by_phone("330106", when(D(2026, 6, 1))), when(D(2026, 6, 1))
    )
    soon = two_working_days_before(Deadline.objects.get(case=waiting).due)
    case_locked, sweep_started = threading.Event(), threading.Event()
    snapshot = rollups.snapshot

    def held_snapshot(case: Case) -> rollups.Snapshot:
        taken = snapshot(case)
        case_locked.set()
        sweep_started.wait(1.5)  # the sweep now waits for the case row
        return taken

    # When Ken accepts it (his action holds the case) while the sweep marks its clocks
    def accept() -> None:
        perform(waiting, "accept", by=cast.ken)

    def mark() -> None:
        case_locked.wait(5)
        sweep_started.set()
        mark_clocks(today=soon)

    with mock.patch.object(rollups, "snapshot", held_snapshot):
        errors = in_threads(accept, mark)

    # Then both go through, and the flags are those of the accepted case (its mediation clock
    # is not due soon), exactly
    assert errors == {}
    assert flags("330106") == (0, 0)
    assert_the_rollups_are_exact(["100000", "330106"], PERIODS[3:4])


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_count_each_mark_once(cast, tree):
    for day in (1, 2):
        moment = when(D(2026, 6, day))
        file(cast.hank, "complaint", by_phone("330106", moment), moment)
    soon = two_working_days_before(max(Deadline.objects.values_list("due", flat=True)))
    marked: list[tuple[int, int]] = []

    def sweep_once() -> None:
        marked.append(mark_clocks(today=soon))

    assert in_threads(sweep_once, sweep_once) == {}

    assert sorted(marked) == [(0, 0), (2, 0)]  # the second waited, then found nothing to do
    assert flags("330106") == (0, 2)
    assert_the_rollups_are_exact(["100000", "330106"], PERIODS[3:4])
