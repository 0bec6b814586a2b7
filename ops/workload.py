"""A national-scale workload: cases spread over the country, the year and their lifecycle.

`generate_workload` (`manage.py generate_workload --cases N --seed S`) fills the database with N
complaints, reports and consultations received over the `days` before `until`, as the platform
would hold them at midnight starting `until`: each case in the state its (simulated) handling
reached, with the events the workflow would have recorded (hash chain computed with
`cases.events.event_digest`), its clocks (open, met, cancelled; overdue and due-soon marks as the
sweep of the last day left them) and, when the supervision app is installed, the overdue orders
that sweep raised, their answers and the due-soon notices already sent. The monitoring rollups
are counted while the cases are built (what `rollups.case_rows` counts per case, `rows.count_case`)
and added to the table in the same transaction, exact as if every case had been filed and handled
through the platform.

The shape follows published figures (WORKFLOW.md, "Volumes to design for"): the four largest
provinces (Guangdong, Zhejiang, Jiangsu, Shandong) file 45% of the cases; businesses are
Zipf-distributed within a province (a few operators draw most complaints); 45% complaints, 16%
reports, 39% consultations; peaks on 15 March, after Double 11 and 618, and on public holidays.

Generated data is marked by its author: every generated case is `created_by` the inactive user
`workload-generator` (also the actor of hotline entries); generated staff are `wl-<department
code>`, consumers have phones `199xxxxxxxx`, businesses a USCC with `WL` at position 9. The
generator refuses a database holding cases of anyone else unless forced.

Deterministic: the same seed, size, period and starting database give the same rows. Ids are
counted from the highest existing id; within a case, events, clocks and orders take ids from a
fixed stride so that chunks can be built in parallel processes.
"""

from __future__ import annotations

import datetime as dt
import marshal
import math
import multiprocessing
import random
import resource
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import connection, connections, transaction
from django.utils import timezone

from accounts.models import Membership, User
from businesses.models import Business
from cases.models import Case, CaseEvent, Deadline
from cases.rules import local_date
from departments.models import NATIONAL_CODE, Department, Level
from ops.bench import country, loading
from ops.bench.country import CHANNEL_SHARES, CONSUMERS_PER_ONLINE_CASE, ONLINE, PROVINCE_SHARES
from ops.bench.cpu import machine_cpu
from ops.bench.lifecycle import CHUNK, Plan, build_chunk
from ops.bench.loading import Row, Table
from ops.bench.rows import (
    BUSINESS_COLUMNS,
    CASE_COLUMNS,
    DEADLINE_COLUMNS,
    EVENT_COLUMNS,
    NOTICE_COLUMNS,
    ORDER_COLUMNS,
    ROLLUP_COLUMNS,
    USER_COLUMNS,
    HolderCounts,
    add_counts,
    business_line,
    case_line,
    deadline_line,
    event_line,
    notice_line,
    order_line,
    partition,
    rollup_counts,
    rollup_text,
    split_counts,
    spread_rollups,
    user_line,
)  # fmt: skip
from supervision import rollups
from supervision.models import Rollup

T = TypeVar("T")
R = TypeVar("R")

GENERATOR_USERNAME = "workload-generator"
STAFF_PREFIX = "wl-"
UNUSABLE_PASSWORD = "!workload"  # noqa: S105 - a "!" hash: nobody can sign in with it


class WorkloadError(Exception):
    """The workload cannot be generated; nothing was written."""


# --- Writing -----------------------------------------------------------------------------------


@dataclass
class Tables:
    cases: Table
    events: Table
    deadlines: Table
    orders: Table | None
    notices: Table | None
    users: Table
    businesses: Table
    rollups: Table

    def for_chunk(self) -> list[tuple[str, Table]]:
        pairs = [("cases", self.cases), ("events", self.events), ("deadlines", self.deadlines)]
        if self.orders is not None and self.notices is not None:
            pairs += [("orders", self.orders), ("notices", self.notices)]
        return pairs


def _supervision_models() -> tuple[Any, Any] | None:
    try:
        from supervision.models import DueSoonNotice, SupervisionOrder
    except ImportError:
        return None
    return SupervisionOrder, DueSoonNotice


def _tables() -> Tables:
    supervision = _supervision_models()
    orders = notices = None
    if supervision is not None:
        try:
            orders = Table(supervision[0], ORDER_COLUMNS, order_line)
            notices = Table(supervision[1], NOTICE_COLUMNS, notice_line)
        except loading.SchemaMismatch:
            orders = notices = None
    try:
        return Tables(
            cases=Table(Case, CASE_COLUMNS, case_line),
            events=Table(CaseEvent, EVENT_COLUMNS, event_line),
            deadlines=Table(Deadline, DEADLINE_COLUMNS, deadline_line),
            orders=orders,
            notices=notices,
            users=Table(User, USER_COLUMNS, user_line),
            businesses=Table(Business, BUSINESS_COLUMNS, business_line),
            rollups=Table(Rollup, ROLLUP_COLUMNS),
        )
    except loading.SchemaMismatch as exc:
        raise WorkloadError(f"the generator does not match the models: {exc}") from exc


# Fork workers: the plan and the tables are set before the pool starts and inherited.
_WORKER_STATE: dict[str, Any] = {}


def _worker_init() -> None:
    """In a forked worker: never use the parent's database connection (it is shared with the
    parent's transaction). Keep a reference so that it is not finalised (which would close it).
    Signals get their default handlers back: the parent's may raise, and a worker must just end."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for conn in connections.all(initialized_only=True):
        _WORKER_STATE.setdefault("kept", []).append(conn.connection)
        conn.connection = None


@contextmanager
def _chunk_texts(chunks: int, workers: int) -> Iterator[Iterator[dict[str, bytes]]]:
    """The COPY texts of every chunk (UTF-8), in order, built by `workers` forked processes."""
    with _mapped(_copy_chunk, list(range(chunks)), workers) as texts:
        yield texts


@contextmanager
def _mapped(function: Callable[[T], R], items: list[T], workers: int) -> Iterator[Iterator[R]]:
    """`function` over `items` in order, by `workers` forked processes (in this one for one)."""
    if workers <= 1 or len(items) <= 1:
        yield map(function, items)
        return
    pool = multiprocessing.get_context("fork").Pool(workers, initializer=_worker_init)
    try:
        yield pool.imap(function, items)
    except BaseException:
        pool.terminate()
        raise
    else:
        pool.close()
    finally:
        pool.join()


def _copy_chunk(chunk: int) -> dict[str, bytes]:
    """Encoded here, in the worker: the parent only passes the bytes on to COPY (and adds up the
    rollup counts)."""
    plan: Plan = _WORKER_STATE["plan"]
    tables: Tables = _WORKER_STATE["tables"]
    rows = build_chunk(plan, chunk)
    texts = {
        name: table.copy_text(getattr(rows, name)).encode() for name, table in tables.for_chunk()
    }
    texts["rollups"] = marshal.dumps(rows.rollups)
    return texts


def _partitions(plan: Plan) -> dict[str, str]:
    """Department code -> its rollup partition (`rows.partition`), computed once per process."""
    found: dict[str, str] | None = _WORKER_STATE.get("partitions")
    if found is None or _WORKER_STATE.get("partitions_of") is not plan:
        found = {code: partition(path) for code, path in plan.paths.items()}
        _WORKER_STATE.update(partitions=found, partitions_of=plan)
    return found


RollupTotals = dict[str, HolderCounts]  # partition -> holder counts


class RollupSum:
    """The holder counts of the chunks, added up in order; split by partition once at the end
    (splitting each chunk's counts instead costs a few us a case more)."""

    def __init__(self) -> None:
        self.counts: HolderCounts = {}

    def add(self, counts: HolderCounts) -> None:
        if self.counts:
            add_counts(self.counts, counts)
        else:
            self.counts = counts

    def by_partition(self, plan: Plan) -> RollupTotals:
        return split_counts(self.counts, _partitions(plan))


@dataclass
class Summary:
    cases: int
    events: int = 0
    deadlines: int = 0
    orders: int = 0
    notices: int = 0
    consumers: int = 0
    businesses: int = 0
    seconds: float = 0.0
    # CPU seconds while it ran: this process and its workers ("python"), the whole machine.
    cpu: dict[str, float] = field(default_factory=dict)
    first_id: int = 0
    notes: list[str] = field(default_factory=list)
    # Seconds: "chunks" (with the consumers and businesses), "indexes", "rollups".
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0


def _count_rows(text: bytes) -> int:
    return text.count(b"\n")


def _write_chunks(
    plan: Plan,
    tables: Tables,
    summary: Summary,
    workers: int,
    progress: Callable[[str], None],
    first: Callable[[], None],
) -> RollupTotals:
    """Write `first` (the setup rows: while the workers build the first chunks), then the
    chunks' rows; what their cases count in the rollups, per partition."""
    chunks = math.ceil(plan.cases / CHUNK)
    counted = RollupSum()
    if loading.is_postgresql():
        writer = loading.CopyWriter()
        _WORKER_STATE.update(plan=plan, tables=tables)
        with _chunk_texts(chunks, workers) as results:
            first()
            started = time.monotonic()
            for n, texts in enumerate(results, start=1):
                for name, table in tables.for_chunk():
                    writer.write_text(table, texts[name])
                    setattr(summary, name, getattr(summary, name) + _count_rows(texts[name]))
                counted.add(marshal.loads(texts["rollups"]))  # noqa: S302 - our worker
                _progress(progress, n, chunks, plan, started)
        return counted.by_partition(plan)
    first()
    started = time.monotonic()
    with connection.cursor() as cursor:
        inserter = loading.InsertWriter(cursor)
        for n in range(chunks):
            rows = build_chunk(plan, n)
            for name, table in tables.for_chunk():
                inserter.write_rows(table, getattr(rows, name))
                setattr(summary, name, getattr(summary, name) + len(getattr(rows, name)))
            counted.add(rows.rollups)
            _progress(progress, n + 1, chunks, plan, started)
    return counted.by_partition(plan)


# --- The monitoring rollups --------------------------------------------------------------------
# Counted while the chunks are built (`rows.count_case`: what `rollups.case_rows` counts), added
# up in the parent, spread over the hierarchy per partition in worker processes (while PostgreSQL
# builds the secondary indexes), then added to the table: COPY into an empty one with its primary
# key built after, else through a temporary table and one upsert.


def _rollup_text(part: str) -> bytes:
    plan: Plan = _WORKER_STATE["plan"]
    totals: RollupTotals = _WORKER_STATE["rollup_totals"]
    text = rollup_text(spread_rollups(totals[part], plan.paths))
    if text.count("\t") != (len(ROLLUP_COLUMNS) - 1) * text.count("\n") or "\\" in text:
        raise WorkloadError("a rollup code or key holds a tab, newline or backslash")
    return text.encode()


@contextmanager
def _rollup_texts(plan: Plan, totals: RollupTotals, workers: int) -> Iterator[Iterator[bytes]]:
    """The COPY texts of the rollup rows, one per partition (biggest first), spread by `workers`
    forked processes, which start at once."""
    parts = sorted(totals, key=lambda part: (-len(totals[part]), part))
    _WORKER_STATE.update(plan=plan, rollup_totals=totals)
    with _mapped(_rollup_text, parts, workers) as texts:
        yield texts


def _write_rollups(table: Table, texts: Iterable[bytes]) -> int:
    """Add the rows to the rollup table (PostgreSQL); how many rows were written."""
    quoted = connection.ops.quote_name(table.name)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quoted})")  # noqa: S608 - a model's table
        existing = cursor.fetchone()[0]
    writer, written = loading.CopyWriter(), 0
    if not existing:
        with loading.deferred_primary_key(table.name):
            for text in texts:
                writer.write_text(table, text)
                written += _count_rows(text)
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE generated_rollup (LIKE {quoted}) ON COMMIT DROP"
            )
            for text in texts:
                writer.write_text(table, text, into="generated_rollup")
                written += _count_rows(text)
            cursor.execute(_ADD_ROLLUPS.format(table=quoted))
            cursor.execute("DROP TABLE generated_rollup")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {quoted}")
    return written


# In key order, as every writer of the table locks its rows.
_ADD_ROLLUPS = """
INSERT INTO {table} AS r (unit_id, metric, day, key, child, n, amount)
SELECT unit_id, metric, day, key, child, n, amount FROM generated_rollup
ORDER BY unit_id, metric, day, key, child
ON CONFLICT (unit_id, metric, day, key, child)
DO UPDATE SET n = r.n + excluded.n, amount = r.amount + excluded.amount"""


def _upsert_rollups(plan: Plan, totals: RollupTotals) -> int:
    """Other engines: the rows added through `rollups.upsert`."""
    written = 0
    for part in sorted(totals):
        written += rollups.upsert(rollup_counts(spread_rollups(totals[part], plan.paths)))
    return written


def _progress(
    progress: Callable[[str], None], n: int, chunks: int, plan: Plan, started: float
) -> None:
    if n % 20 == 0 or n == chunks:
        done = min(n * CHUNK, plan.cases)
        rate = done / max(time.monotonic() - started, 1e-9)
        progress(f"  {done:,} / {plan.cases:,} cases ({rate:,.0f}/s)")


# --- Setup rows written through the ORM (small) ------------------------------------------------

STAFF_ROLES = {
    "county": ["intake", "handler", "head", "supervisor", "analyst"],
    "station": ["handler", "intake"],
    "above": ["supervisor", "analyst", "intake"],
}


def generator_user() -> User | None:
    return User.objects.filter(username=GENERATOR_USERNAME).first()


def non_generated_cases() -> int:
    """Cases someone other than the generator filed."""
    author = generator_user()
    cases = Case.objects.all() if author is None else Case.objects.exclude(created_by=author)
    return cases.count()


def _ensure_generator() -> User:
    user, _created = User.objects.get_or_create(
        username=GENERATOR_USERNAME,
        defaults={"password": UNUSABLE_PASSWORD, "is_active": False, "real_name": "压测数据生成器"},
    )
    return user


def _ensure_staff(units: dict[str, country.Unit]) -> dict[str, int]:
    """One staff account per department that acts on generated cases (idempotent)."""
    departments = {d.code: d for d in Department.objects.filter(is_active=True)}
    wanted = dict.fromkeys(units)
    for unit in units.values():
        wanted.update(dict.fromkeys(unit.stations))
    names = {f"{STAFF_PREFIX}{code}": code for code in wanted if code in departments}
    existing = dict(User.objects.filter(username__in=names).values_list("username", "id"))
    new = [
        User(
            username=name, password=UNUSABLE_PASSWORD, real_name=f"{departments[code].name}工作人员"
        )
        for name, code in names.items()
        if name not in existing
    ]
    User.objects.bulk_create(new, batch_size=1000)
    ids = dict(User.objects.filter(username__in=names).values_list("username", "id"))
    have = set(
        Membership.objects.filter(user_id__in=ids.values()).values_list("user_id", flat=True)
    )
    memberships = []
    for name, user_id in ids.items():
        if user_id in have:
            continue
        department = departments[names[name]]
        level = (
            "county"
            if department.is_county_level
            else "station"
            if department.level == Level.STATION
            else "above"
        )
        memberships.append(
            Membership(user_id=user_id, department=department, roles=STAFF_ROLES[level])
        )
    Membership.objects.bulk_create(memberships, batch_size=1000)
    return {names[name]: user_id for name, user_id in ids.items()}


def _people_rows(plan: Plan) -> list[Row]:
    first = plan.cutoff - dt.timedelta(days=plan.days + 400)
    minute, phone_of, name_of = dt.timedelta(minutes=1), country.consumer_phone, country.person_name
    rows = []
    for user_id in range(plan.ids["user"], plan.ids["user"] + plan.consumers):
        phone = phone_of(user_id)
        joined = first + minute * ((user_id * 7919) % (400 * 24 * 60))
        rows.append(
            (user_id, UNUSABLE_PASSWORD, phone, True, joined, name_of(user_id), phone, True, joined)
        )
    return rows


def _business_rows(plan: Plan) -> list[Row]:
    at = plan.cutoff - dt.timedelta(days=plan.days + 30)
    return [(b.id, b.name, b.uscc, b.address, b.county, at, at) for b in plan.businesses]


# --- Entry point -------------------------------------------------------------------------------


def check_departments() -> None:
    if (
        not Department.objects.filter(code=NATIONAL_CODE).exists()
        or not Department.objects.filter(is_county_level=True, is_active=True).exists()
    ):
        raise WorkloadError("the division tree is not loaded: run `manage.py load_divisions` first")


def make_plan(*, cases: int, seed: int, days: int, until: dt.date, supervision: bool) -> Plan:
    units, by_province = country.load_units()
    present = {p: PROVINCE_SHARES[p] for p in by_province}
    if not present:
        raise WorkloadError("no county-level departments under any province: run load_divisions")
    provinces = country.Picker.of(present)
    counties = country.county_pickers(by_province, seed)
    ids = _first_ids()
    online = sum(shares for c, shares in CHANNEL_SHARES["filed"].items() if c in ONLINE)
    consumers = max(1, int(cases * online * CONSUMERS_PER_ONLINE_CASE))
    businesses, business_pickers = country.businesses(ids, cases, provinces, counties, units, seed)
    first_day = until - dt.timedelta(days=days)
    return Plan(
        seed=seed,
        cases=cases,
        days=days,
        until=until,
        supervision=supervision,
        ids=ids,
        generator_id=0,
        staff={},
        units=units,
        provinces=provinces,
        counties=counties,
        consumers=consumers,
        businesses=businesses,
        business_pickers=business_pickers,
        day_counts=country.day_counts(cases, until, days, random.Random(f"days:{seed}")),
        workdays=country.Workdays.around(first_day, until),
        texts=country.texts(),
        categories=country.categories(),
        paths=dict(Department.objects.values_list("code", "path")),
    )


def _first_ids() -> dict[str, int]:
    ids = {
        "user": loading.next_id(User),
        "business": loading.next_id(Business),
        "case": loading.next_id(Case),
        "event": loading.next_id(CaseEvent),
        "deadline": loading.next_id(Deadline),
    }
    supervision = _supervision_models()
    if supervision is not None:
        ids["order"] = loading.next_id(supervision[0])
        ids["notice"] = loading.next_id(supervision[1])
    return ids


def generate_workload(
    *,
    cases: int,
    seed: int,
    days: int = 365,
    until: dt.date | None = None,
    force: bool = False,
    workers: int = 1,
    progress: Callable[[str], None] = lambda line: None,
) -> Summary:
    """Write the workload in one transaction; WorkloadError (nothing written) when it can't."""
    if cases <= 0:
        raise WorkloadError("--cases must be a positive number")
    if days <= 0:
        raise WorkloadError("--days must be a positive number")
    check_departments()
    if not force and (others := non_generated_cases()):
        raise WorkloadError(
            f"the database holds {others} cases that were not generated; use --force to add "
            "generated cases anyway"
        )
    tables = _tables()
    started, python_before, machine_before = time.monotonic(), _python_cpu(), machine_cpu()[0]
    try:
        with transaction.atomic():
            summary = _generate(tables, cases, seed, days, until, workers, progress)
    finally:
        _WORKER_STATE.clear()  # the plan and the rollup counts (hundreds of MB at 1M cases)
    summary.seconds = time.monotonic() - started
    summary.cpu = {
        "python": _python_cpu() - python_before,
        "machine": machine_cpu()[0] - machine_before,
    }
    return summary


def _python_cpu() -> float:
    """User and system CPU seconds of this process and of its ended children (the workers)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _generate(
    tables: Tables,
    cases: int,
    seed: int,
    days: int,
    until: dt.date | None,
    workers: int,
    progress: Callable[[str], None],
) -> Summary:
    models_ = [User, Business, Case, CaseEvent, Deadline]
    if tables.orders is not None and tables.notices is not None:
        models_ += [tables.orders.model, tables.notices.model]
    loading.lock_tables([*models_, Rollup])
    generator = _ensure_generator()
    plan = make_plan(
        cases=cases,
        seed=seed,
        days=days,
        until=until or local_date(_now()),
        supervision=tables.orders is not None,
    )
    plan.generator_id = generator.pk
    plan.staff = _ensure_staff(plan.units)
    plan.ids["user"] = loading.next_id(User)
    summary = Summary(cases=0, consumers=plan.consumers, businesses=len(plan.businesses))
    if tables.orders is None:
        summary.notes.append("supervision orders skipped: the supervision models do not match")
    big = cases >= loading.row_count_estimate(Case)
    with loading.bulk_session() as triggers_off, ExitStack() as stack:
        if not triggers_off and loading.is_postgresql():
            summary.notes.append("foreign-key checks stayed on (not a superuser)")
        names = [m._meta.db_table for m in models_[2:]]
        with loading.deferred_indexes(names, enabled=big) as dropped:

            def setup_rows() -> None:
                writer = _setup_writer()
                writer.write_rows(tables.users, _people_rows(plan))
                writer.write_rows(tables.businesses, _business_rows(plan))
                progress(f"  {plan.consumers:,} consumers, {len(plan.businesses):,} businesses")

            step = time.monotonic()
            totals = _write_chunks(plan, tables, summary, workers, progress, setup_rows)
            summary.phases["chunks"] = time.monotonic() - step
            if loading.is_postgresql():
                # Spread in the background while PostgreSQL builds the indexes.
                texts = stack.enter_context(_rollup_texts(plan, totals, workers))
            step = time.monotonic()
        summary.phases["indexes"] = time.monotonic() - step
        if dropped:
            progress(f"  {len(dropped)} secondary indexes built ({summary.phases['indexes']:.1f}s)")
        step = time.monotonic()
        if loading.is_postgresql():
            written = _write_rollups(tables.rollups, texts)
        else:
            written = _upsert_rollups(plan, totals)
        summary.phases["rollups"] = time.monotonic() - step
        progress(f"  {written:,} rollup rows ({summary.phases['rollups']:.1f}s)")
    loading.finish_tables(models_)
    summary.first_id = plan.ids["case"]
    return summary


def _setup_writer() -> loading.Writer:
    if loading.is_postgresql():
        return loading.CopyWriter()
    return loading.InsertWriter(connection.cursor())


def _now() -> dt.datetime:
    return timezone.now()
