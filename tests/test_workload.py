"""generate_workload: deterministic, consistent with the workflow and the sweep, and careful
with databases that hold real cases."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import random
from collections import Counter
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.db.models import Min

from accounts.models import User
from businesses.models import Business
from cases.events import event_digest, verify_case_events
from cases.intake import submit_case
from cases.models import Case, CaseEvent, Deadline, Status
from cases.numbering import format_number
from cases.rules import SHANGHAI
from departments.models import Department
from ops import workload
from ops.bench import country, digests, floor, loading
from ops.bench.lifecycle import build_chunk, case_number
from ops.bench.rows import CASE_COLUMNS, Rows, rollup_counts, rollup_text, spread_rollups
from supervision import rollups
from supervision.models import DueSoonNotice, Rollup, SupervisionOrder
from supervision.sweeps import sweep_deadlines
from workdays.calendar import add_working_days

UNTIL = dt.date(2026, 6, 3)  # a Wednesday: the workload is the state at midnight starting it
LAST_DAY = UNTIL - dt.timedelta(days=1)
WORKFLOW_ACTIONS = {
    "accept", "reject", "withdraw", "start_mediation", "record_agreement", "terminate",
    "refer_out", "decide", "answer", "rate",
}  # fmt: skip
OPEN_CLOCK = {
    ("complaint", "submitted"): "accept",
    ("report", "submitted"): "accept",
    ("consultation", "submitted"): "answer",
    ("complaint", "accepted"): "mediate",
    ("complaint", "mediating"): "mediate",
    ("report", "verifying"): "verify",
}
NOTICE_CLOCKS = {"notify_termination", "notify_decision"}


def generate(*args: str, cases: int = 300, seed: int = 7, days: int = 90) -> str:
    out = io.StringIO()
    call_command(
        "generate_workload",
        "--cases",
        str(cases),
        "--seed",
        str(seed),
        "--days",
        str(days),
        "--until",
        UNTIL.isoformat(),
        *args,
        stdout=out,
    )
    return out.getvalue()


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    return {
        "cases": list(Case.objects.order_by("id").values_list()),
        "events": list(CaseEvent.objects.order_by("id").values_list()),
        "clocks": list(Deadline.objects.order_by("id").values_list()),
        "orders": list(SupervisionOrder.objects.order_by("id").values_list()),
        "notices": list(DueSoonNotice.objects.order_by("id").values_list("deadline", "due")),
        "consumers": list(
            User.objects.filter(username__startswith="199")
            .order_by("id")
            .values_list("id", "username", "real_name", "phone")
        ),
        "businesses": list(Business.objects.order_by("id").values_list("id", "name", "uscc")),
    }


def remove_generated() -> None:
    DueSoonNotice.objects.all().delete()
    SupervisionOrder.objects.all().delete()
    CaseEvent.objects.all().delete()
    Deadline.objects.all().delete()
    Case.objects.all().delete()
    User.objects.filter(username__startswith="199").delete()
    Business.objects.filter(uscc__contains="WL").delete()


@pytest.fixture
def generated(tree) -> None:
    generate()


# --- Determinism ---------------------------------------------------------------------------------


def test_the_same_seed_writes_the_same_rows(tree):
    generate()
    first = snapshot()
    remove_generated()

    generate()

    assert snapshot() == first
    assert len(first["cases"]) == 300


def test_another_seed_writes_other_cases(tree):
    generate(seed=7)
    first = [row[1:] for row in snapshot()["cases"]]
    remove_generated()

    generate(seed=8)

    assert [row[1:] for row in snapshot()["cases"]] != first


# --- Consistency -------------------------------------------------------------------------------


def test_every_event_chain_verifies(generated):
    problems = [verify_case_events(case) for case in Case.objects.all()]

    assert [p for p in problems if p is not None] == []


def test_every_case_is_at_a_county_level_department(generated):
    departments = Department.objects.filter(cases__isnull=False).distinct()

    assert departments.exists()
    assert all(d.is_county_level for d in departments)


def test_cases_are_received_within_the_period_and_marked_as_generated(generated):
    first = dt.datetime.combine(UNTIL - dt.timedelta(days=90), dt.time.min, tzinfo=dt.UTC)
    author = workload.generator_user()

    assert author is not None and not author.is_active
    for case in Case.objects.all():
        assert case.created_by_id == author.pk
        assert first - dt.timedelta(hours=8) <= case.received_at
        assert case.received_at.date() < UNTIL


def test_an_open_case_has_the_one_running_clock_of_its_state(generated):
    for case in Case.objects.exclude(status=Status.CLOSED):
        running = list(case.deadlines.filter(met_at__isnull=True, cancelled=False))

        assert [c.kind for c in running] == [OPEN_CLOCK[(case.kind, case.status)]], case.number


def test_a_closed_case_runs_no_clock_but_a_notice_clock(generated):
    for case in Case.objects.filter(status=Status.CLOSED):
        running = case.deadlines.filter(met_at__isnull=True, cancelled=False)

        assert {c.kind for c in running} <= NOTICE_CLOCKS, case.number
        assert case.closed_at is not None and case.outcome


def test_every_case_knows_its_next_due_date(generated):
    for case in Case.objects.all():
        running = case.deadlines.filter(met_at__isnull=True, cancelled=False)
        assert case.next_due == running.aggregate(due=Min("due"))["due"], case.number


def test_clock_marks_are_those_of_the_last_sweep(generated):
    limit = add_working_days(LAST_DAY, 3)
    for clock in Deadline.objects.all():
        if clock.cancelled:
            assert not clock.overdue and not clock.due_soon
        elif clock.met_at is None:
            assert clock.overdue == (clock.due < LAST_DAY)
            assert clock.due_soon == (LAST_DAY <= clock.due < limit)
        else:
            assert not clock.due_soon
            assert clock.met_at >= clock.created_at


def test_the_data_holds_open_met_and_overdue_clocks(generated):
    clocks = Deadline.objects.all()

    assert clocks.filter(met_at__isnull=True, cancelled=False, overdue=False).exists()
    assert clocks.filter(met_at__isnull=False).exists()
    assert clocks.filter(overdue=True).exists()


def test_every_overdue_clock_has_its_order(generated):
    overdue = Deadline.objects.filter(overdue=True)

    assert overdue.exists()
    for clock in overdue:
        orders = SupervisionOrder.objects.filter(deadline=clock, kind="overdue", round=0)
        assert orders.count() == 1
        order = orders.get()
        assert order.due > clock.due
        assert order.status == "answered" or order.due >= LAST_DAY


def test_the_version_counts_the_workflow_actions(generated):
    for case in Case.objects.all():
        actions = case.events.filter(action__in=WORKFLOW_ACTIONS).count()

        assert case.version == 1 + actions


def test_a_sweep_of_the_last_day_finds_nothing_to_do(generated):
    result = sweep_deadlines(today=LAST_DAY)

    assert result == type(result)()


def test_verify_events_passes(generated):
    out = io.StringIO()

    call_command("verify_events", stdout=out)

    assert "300" in out.getvalue()


def test_cases_are_spread_over_states_kinds_and_channels(generated):
    cases = Case.objects.all()

    assert {c.kind for c in cases} == {"complaint", "report", "consultation"}
    assert len({c.status for c in cases}) >= 4
    assert len({c.channel for c in cases}) >= 4


# --- Refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cases", ["0", "-5"])
def test_a_non_positive_size_is_refused_and_nothing_is_written(tree, cases):
    users = User.objects.count()

    with pytest.raises(CommandError, match="positive"):
        call_command("generate_workload", "--cases", cases, stdout=io.StringIO())

    assert Case.objects.count() == 0
    assert User.objects.count() == users


def test_an_unknown_option_is_refused_and_nothing_is_written(tree):
    with pytest.raises(CommandError):
        call_command("generate_workload", "--cases", "5", "--bogus", stdout=io.StringIO())

    assert Case.objects.count() == 0


def test_without_divisions_it_says_to_load_them(db):
    with pytest.raises(CommandError, match="load_divisions"):
        generate(cases=5)

    assert Case.objects.count() == 0


def file_real_case(cast) -> Case:
    return submit_case(
        kind="complaint",
        by=cast.alice,
        payload={
            "department": "330106",
            "contact_address": "杭州市西湖区文三路100号",
            "respondent": {"name": "杭州好运来电器有限公司", "address": "杭州市西湖区文三路90号"},
            "facts": "电饭煲无法加热。",
            "demand": "退货退款",
        },
    )


def test_a_database_with_real_cases_is_refused_without_force(cast):
    real = file_real_case(cast)
    users = User.objects.count()

    with pytest.raises(CommandError, match="--force"):
        generate(cases=20)

    assert list(Case.objects.all()) == [real]
    assert User.objects.count() == users


def test_force_adds_generated_cases_beside_real_ones(cast):
    real = file_real_case(cast)

    generate("--force", cases=20)

    assert Case.objects.count() == 21
    assert Case.objects.get(pk=real.pk).created_by == cast.alice
    assert verify_case_events(Case.objects.get(pk=real.pk)) is None


def test_generating_again_on_generated_data_needs_no_force(generated):
    generate(cases=10, seed=99)

    assert Case.objects.count() == 310


# --- The rollups are counted while generating ----------------------------------------------------


def test_the_rollups_of_a_generated_workload_are_exact(tree):
    generate()

    assert Rollup.objects.filter(metric="received").exists()
    assert Rollup.objects.filter(metric="clock").exists()
    assert rollups.differences() == []


def test_the_rollups_stay_exact_when_generating_again_into_the_same_database(tree):
    generate(cases=200, seed=1)
    rows = Rollup.objects.count()

    generate(cases=150, seed=2, days=120)
    generate(cases=20, seed=3, days=10)

    assert Case.objects.count() == 370
    assert Rollup.objects.count() > rows
    assert rollups.differences() == []


def test_the_rollups_of_real_cases_are_kept_when_forced(cast):
    file_real_case(cast)
    assert rollups.differences() == []

    generate("--force", cases=50)

    assert rollups.differences() == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY and the primary key build")
def test_the_rollup_primary_key_is_built_again_after_a_load_into_an_empty_table(tree):
    generate(cases=100)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'supervision_rollup'::regclass AND contype = 'p'"
        )
        assert cursor.fetchall() == [("PRIMARY KEY (unit_id, metric, day, key, child)",)]
    assert rollups.differences() == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL constraint")
def test_rows_that_break_the_deferred_primary_key_fail_the_load(tree):
    insert = (
        "INSERT INTO supervision_rollup (unit_id, child, metric, day, key, n, amount) "
        "VALUES ('330106', '', 'received', '2026-06-01', 'complaint/web', 1, 0)"
    )

    with (
        pytest.raises(IntegrityError),
        transaction.atomic(),
        loading.deferred_primary_key("supervision_rollup"),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "SELECT count(*) FROM pg_constraint "
            "WHERE conrelid = 'supervision_rollup'::regclass AND contype = 'p'"
        )
        assert cursor.fetchone() == (0,)  # dropped: the duplicate goes in, until the build
        cursor.execute(insert)
        cursor.execute(insert)

    assert not Rollup.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL session settings")
def test_the_load_runs_with_settings_for_bulk_writes(db):
    settings = (
        "maintenance_work_mem", "max_parallel_maintenance_workers", "work_mem",
        "synchronous_commit", "session_replication_role",
    )  # fmt: skip
    with transaction.atomic(), loading.bulk_session(), connection.cursor() as cursor:
        shown = {}
        for name in settings:
            cursor.execute(f"SHOW {name}")
            shown[name] = cursor.fetchone()[0]

    assert shown["maintenance_work_mem"] == "1GB"
    assert int(shown["max_parallel_maintenance_workers"]) >= 1
    assert shown["work_mem"] == "256MB"
    assert shown["synchronous_commit"] == "off"


def the_cases_of(rows: Rows, paths: dict[str, str]) -> list[tuple[SimpleNamespace, list[Any]]]:
    """Each generated case as `rollups.case_rows` reads a Case, with its clocks, from its rows."""
    clocks: dict[int, list[rollups.Clock]] = {}
    for row in rows.deadlines:
        clock = rollups.Clock(row[5], row[8], row[11], row[9], row[10])
        clocks.setdefault(row[1], []).append(clock)
    cases = []
    for row in rows.cases:
        f = dict(zip(CASE_COLUMNS, row, strict=True))
        recovered = f["amount_recovered"]
        handler = f["handler_unit_id"]
        case = SimpleNamespace(
            kind=f["kind"],
            channel=f["channel"],
            status=f["status"],
            received_at=f["received_at"],
            closed_at=f["closed_at"],
            outcome=f["outcome"],
            amount_recovered=None if recovered is None else Decimal(recovered),
            satisfaction=f["satisfaction"],
            rated_at=f["rated_at"],
            department=SimpleNamespace(path=paths[f["department_id"]]),
            handler_unit=None if handler is None else SimpleNamespace(path=paths[handler]),
        )
        cases.append((case, clocks.get(f["id"], [])))
    return cases


def test_the_rollups_counted_per_holder_are_those_of_case_rows(chunks):
    paths = dict(Department.objects.values_list("code", "path"))
    for rows in chunks:
        expected = rollups.Counts()
        for case, clocks in the_cases_of(rows, paths):
            for row, (n, amount) in rollups.case_rows(case, clocks).items():  # type: ignore[arg-type]
                expected.add(row, n, amount)

        assert rollup_counts(spread_rollups(rows.rollups, paths)) == expected
        assert {metric for _unit, metric, _day, _key, _child in expected} >= {
            "received", "open", "closed", "rated", "clock", "held"
        }  # fmt: skip


# --- The shape of the workload ----------------------------------------------------------------


def test_spread_keeps_the_total_and_the_proportions():
    parts = country.spread(1000, [1, 2, 7])

    assert sum(parts) == 1000
    assert parts == [100, 200, 700]
    assert sum(country.spread(7, [1, 1, 1])) == 7


def test_march_15_and_after_double_11_are_peaks():
    ordinary = country.day_weight(dt.date(2026, 3, 10), holiday=False)

    assert country.day_weight(dt.date(2026, 3, 15), holiday=False) > 2 * ordinary
    assert country.day_weight(dt.date(2026, 11, 15), holiday=False) > ordinary
    assert country.day_weight(dt.date(2026, 10, 2), holiday=True) > ordinary


def test_the_calendar_snapshot_agrees_with_the_working_day_calendar(db):
    days = country.Workdays.around(dt.date(2025, 9, 1), dt.date(2026, 12, 31))
    start = dt.date(2025, 9, 20)
    for offset in range(0, 420, 3):
        day = start + dt.timedelta(days=offset)
        for n in (0, 1, 7, 15):
            assert days.add(day, n) == add_working_days(day, n), (day, n)


def test_the_four_largest_provinces_draw_about_45_percent(db):
    call_command("load_divisions", stdout=io.StringIO())
    plan = workload.make_plan(cases=1000, seed=1, days=30, until=UNTIL, supervision=False)
    rng = random.Random(1)

    picks = Counter(plan.provinces.pick(rng) for _ in range(20000))

    big_four = sum(picks[p] for p in ("44", "33", "32", "37")) / 20000
    assert 0.42 < big_four < 0.48
    assert picks.most_common(1)[0][0] == "44"


def test_businesses_follow_a_zipf_law_within_a_province(db):
    call_command("load_divisions", stdout=io.StringIO())
    plan = workload.make_plan(cases=40000, seed=1, days=30, until=UNTIL, supervision=False)
    rng = random.Random(2)

    picks = Counter(plan.business_pickers["44"].pick(rng) for _ in range(20000))

    ranked = [n for _, n in picks.most_common()]
    assert ranked[0] > 5 * ranked[len(ranked) // 2]
    assert ranked[0] / 20000 > 0.05


# --- The generator's fast paths give the platform's own results --------------------------------


def built_chunks(chunks: int = 3, cases: int = 12000) -> list[Rows]:
    """Rows of generated chunks, straight from the builder (the division tree must be loaded)."""
    plan = workload.make_plan(cases=cases, seed=5, days=60, until=UNTIL, supervision=True)
    plan.generator_id = 1
    plan.staff = workload._ensure_staff(plan.units)
    return [build_chunk(plan, n) for n in range(chunks)]


@pytest.fixture
def chunks(tree) -> list[Rows]:
    return built_chunks()


def test_generated_digests_are_those_of_event_digest(chunks):
    checked = 0
    for rows in chunks:
        numbers = {row[0]: row[1] for row in rows.cases}
        for row in rows.events:
            _id, case_id, seq, at, action, actor, department, visibility, note, data = row[:10]
            expected = event_digest(
                prev_hash=row[10],
                case_number=numbers[case_id],
                seq=seq,
                at=at,
                action=action,
                actor_id=actor,
                department_id=department,
                visibility=visibility,
                note=note,
                data=json.loads(data),
            )
            assert row[11] == expected, (numbers[case_id], seq)
            checked += 1

    assert checked > 30000


def test_the_data_column_holds_the_hashed_json(chunks):
    actions = set()
    for rows in chunks:
        for row in rows.events:
            data = json.loads(row[9])
            assert row[9] == json.dumps(
                data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
            )
            actions.add(row[4])

    assert {"submit", "accept", "record_agreement", "rate", "supervision_order"} <= actions


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        'a "quoted" \\ back\\slash',
        "tab\tnew\nline\rcarriage\x00\x1f\x7f",
        "中文，全角标点「」 and emoji 😀 \u2028\u2029",
        "",
        0,
        -17,
        10**30,
        True,
        False,
        None,
        1.5,
        [1, "两", None, True, [], {}],
        {"b": 1, "a": {"z": [1, 2], "y": "é"}, "c": None, "d": False},
        {2: "int keys", 1: "sorted as numbers"},
        {"when": dt.date(2026, 6, 3), "amount": Decimal("1.50")},
        ("a", "tuple"),
    ],
)
def test_json_text_is_byte_identical_to_json_dumps(value):
    expected = json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
    )

    assert digests.json_text(value) == expected


def test_the_fast_digest_equals_event_digest_on_awkward_input():
    fields: dict[str, Any] = {
        "prev_hash": "f" * 64,
        "case_number": "T2026060300000042",
        "seq": 3,
        "at": dt.datetime(
            2026, 6, 2, 23, 59, 59, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8))
        ),
        "action": "accept",
        "actor_id": None,
        "department_id": None,
        "visibility": "internal",
        "note": '说明 "引号" \\ 和\n换行',
    }
    data = {"handler_unit": "330106", "n": 1, "flag": True, "nested": {"k": [None, 2.5]}}

    fast = digests.event_digest(**fields, data_json=digests.json_text(data))

    assert fast == event_digest(**fields, data=data)


def test_copy_lines_equal_the_exact_copy_text(chunks):
    tables = workload._tables()
    for rows in chunks:
        for name, table in tables.for_chunk():
            values = getattr(rows, name)
            exact = "".join(
                "\t".join(map(loading.copy_value, row)) + table.copy_tail + "\n" for row in values
            )
            assert table.copy_text(values) == exact, name


def test_copy_lines_escape_text_that_needs_it(tree):
    table = workload._tables().events
    row = (1, 2, 1, dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC), "submit", None, None, "public",
           "tab\there\\", "{}", "0" * 64, "1" * 64)  # fmt: skip

    text = table.copy_text([row])

    assert "tab\\there\\\\" in text
    assert text.count("\n") == 1
    assert "\t\\N\t\\N\t" in text


def test_moments_are_written_as_str_and_isoformat_would():
    moments = [
        dt.datetime(2026, 1, 1, tzinfo=SHANGHAI),
        dt.datetime(2026, 12, 31, 23, 59, 59, tzinfo=SHANGHAI),
        dt.datetime(2026, 3, 1, 8, 0, 1, 250, tzinfo=SHANGHAI),
        dt.datetime(1990, 7, 1, 12, tzinfo=SHANGHAI),  # daylight saving time, +09:00
        dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC),
    ]

    start = dt.datetime(2025, 12, 30, tzinfo=SHANGHAI)
    moments += [start + dt.timedelta(seconds=n * 997) for n in range(2000)]  # midnights included

    assert [loading.moment_text(m) for m in moments] == [str(m) for m in moments]
    assert [digests.utc_text(m) for m in moments] == [
        m.astimezone(dt.UTC).isoformat() for m in moments
    ]


def test_case_numbers_are_those_of_format_number():
    for kind in ("complaint", "report", "consultation"):
        for day, sequence in ((dt.date(2026, 6, 3), 42), (dt.date(2025, 1, 9), 123_456_789)):
            expected = format_number(kind=kind, received_on=day, sequence=sequence)

            assert case_number(kind, day, sequence) == expected


def test_the_generators_draws_are_those_of_random():
    fast, reference = country.Draws("chunk:7:0"), random.Random("chunk:7:0")
    bounds = [1, 2, 3, 7, 30, 255, 256, 257, 3600, 32400, 10**9, 2**70 + 1]
    items = ("a", "b", "c", "d", "e")
    for n in range(3000):
        bound = bounds[n % len(bounds)]
        assert fast.randrange(bound) == reference.randrange(bound)
        assert fast.randrange(10, 10 + bound) == reference.randrange(10, 10 + bound)
        assert fast.randint(-5, bound) == reference.randint(-5, bound)
        assert fast.choice(items[: n % 5 + 1]) == reference.choice(items[: n % 5 + 1])
        assert fast.random() == reference.random()
    assert fast.randrange(0, 20, 5) == reference.randrange(0, 20, 5)


def test_the_generators_draws_refuse_empty_ranges():
    draws = country.Draws(1)

    with pytest.raises(ValueError, match="empty range"):
        draws.randrange(0)
    with pytest.raises(ValueError, match="empty range"):
        draws.randint(3, 2)
    with pytest.raises(IndexError):
        draws.choice(())


# --- The workload of a seed does not change by accident ------------------------------------------

FINGERPRINTS = {
    # Cases carry two more columns, at their defaults (the authority dispute: disputed_with
    # NULL, dispute_refused false).
    "cases": "5a23ac1f237f5b1f2f81ef5b6566cfee9e2aa7f1f1930f6ccc61b508cc26c39c",
    "events": "5648d9456945e33ea9a23c3eb1d5ff41a302dacd8f63d725e9784aee9b8e2779",
    "deadlines": "4a8d0612226b0fa7cc3b73cb4334f603b911a635e49f9cef530185dd7bd15841",
    "orders": "51e13f3877f32d05eff5a048559756631a679b1df37fd88cb4b44553f0b4d5c7",
    "notices": "8f9e668e3467cf799ffe8ca7d4550246268b06a25f0c595b0c710ef5fc288a36",
    "rollups": "8e082e72182b04df379a6e05e2d2e12dd62956e8a4bf3e26dbf63d99dde44be8",
}


def test_the_rows_of_a_seed_are_those_fingerprinted(tree):
    """SHA-256 of every table's COPY text for a fixed plan: a faster builder must write the same
    bytes; a change meant to alter the workload updates these on purpose (and says why)."""
    plan = workload.make_plan(cases=7000, seed=11, days=45, until=UNTIL, supervision=True)
    plan.generator_id = 1
    plan.staff = {code: 100 + n for n, code in enumerate(sorted(plan.units))}
    plan.ids = dict.fromkeys(plan.ids, 1000)
    tables = workload._tables()
    digests_ = {name: hashlib.sha256() for name in FINGERPRINTS}
    counts: dict[Any, Any] = {}
    for n in range(2):
        rows = build_chunk(plan, n)
        for name, table in tables.for_chunk():
            digests_[name].update(table.copy_text(getattr(rows, name)).encode())
        for cell, (count, cents) in rows.rollups.items():
            old = counts.get(cell, (0, 0))
            counts[cell] = (old[0] + count, old[1] + cents)
    lines = rollup_text(spread_rollups(counts, plan.paths)).splitlines()
    digests_["rollups"].update("\n".join(sorted(lines)).encode())

    assert {name: digest.hexdigest() for name, digest in digests_.items()} == FINGERPRINTS


# --- The generator's baseline: PostgreSQL alone loading the same rows ---------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY")
def test_the_floor_loads_the_generated_rows_again_and_leaves_them_as_they_were(tree):
    generate(cases=200)
    before, indexes = snapshot(), _indexes()
    rollup_rows = Rollup.objects.count()

    measured = floor.measure(Case.objects.count())

    assert snapshot() == before
    assert _indexes() == indexes  # the dropped ones and the rollups' primary key are back
    assert Rollup.objects.count() == rollup_rows and rollups.differences() == []
    assert measured["rows"]["cases_case"] == 200
    assert measured["rows"]["cases_caseevent"] == len(before["events"])
    assert measured["rows"]["cases_deadline"] == len(before["clocks"])
    assert measured["rows"]["supervision_rollup"] == rollup_rows
    assert set(measured["phases_s"]) == {"copy", "indexes", "rollups", "analyze"}
    assert measured["cases_per_s"] > 0 and measured["copy_mb"] >= 0


def _indexes() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1",
            [list(floor.TABLES)],
        )
        return list(cursor.fetchall())


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the refusal of other engines")
def test_the_floor_is_measured_on_postgresql_only(db):
    with pytest.raises(ValueError, match="PostgreSQL only"):
        floor.measure(1)


def test_the_generator_reports_its_cpu(tree):
    summary = workload.generate_workload(cases=50, seed=3, until=UNTIL)

    assert summary.cpu["python"] > 0
    assert summary.cpu["machine"] >= 0
