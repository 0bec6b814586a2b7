"""Intake under load: `POST /api/v1/complaints` through gunicorn, against its raw ceiling.

The raw ceiling writes the same rows the intake writes for a complaint (the case with its final
number and event head, the public `submit` event with its hash, the accept clock), one
transaction per case, at the same concurrency, straight through psycopg (PostgreSQL: the id from
the sequence, then the three inserts and the commit in one pipeline) or sqlite3 (insert, number,
event, clock, commit: SQLite has no sequence to ask first). No ORM, no HTTP, no checks: what the
database and a minimal client cost, so the ratio says what the platform adds on top.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import translation

from accounts.models import User
from accounts.tokens import issue_token
from businesses.models import Business
from cases.events import GENESIS, event_digest
from cases.models import Case, CaseEvent, Channel, ClockKind, Deadline
from cases.numbering import format_number
from cases.rules import local_date, rules_for
from ops.bench.country import DEMANDS, Workdays
from ops.bench.loadgen import LoadResult, Request
from ops.bench.loading import Table
from ops.bench.rows import CASE_COLUMNS, DEADLINE_COLUMNS, EVENT_COLUMNS

ACCEPT_WORKING_DAYS = 7


@dataclass(frozen=True)
class Complainant:
    user_id: int
    token: str
    name: str
    phone: str
    address: str


@dataclass(frozen=True)
class Respondent:
    id: int
    name: str
    uscc: str
    address: str
    county: str


@dataclass(frozen=True)
class Complaint:
    """One complaint as both the API body and the raw rows are made from it."""

    by: Complainant
    respondent: Respondent
    category: str
    amount: str
    occurred_on: dt.date
    facts: str
    demand: str

    def body(self) -> bytes:
        return json.dumps(
            {
                "department": self.respondent.county,
                "contact_address": self.by.address,
                "respondent": {
                    "name": self.respondent.name,
                    "uscc": self.respondent.uscc,
                    "address": self.respondent.address,
                },
                "category": self.category,
                "amount": self.amount,
                "occurred_on": self.occurred_on.isoformat(),
                "facts": self.facts,
                "demand": self.demand,
            },
            ensure_ascii=False,
        ).encode()


def complainants(count: int) -> list[Complainant]:
    """Real-name consumers of the generated workload, each with a fresh API token."""
    users = list(
        User.objects.filter(username__startswith="199", is_verified=True, is_active=True)
        .exclude(phone=None)
        .order_by("id")[:count]
    )
    with transaction.atomic():
        return [
            Complainant(
                u.pk, issue_token(user=u), u.real_name, u.phone or "", f"{u.real_name}的住址"
            )
            for u in users
        ]


def complaints(people: list[Complainant], count: int, *, seed: int) -> list[Complaint]:
    """`count` complaints against generated businesses, by the given consumers in turn."""
    rng = random.Random(f"intake:{seed}")
    ids = list(Business.objects.filter(uscc__contains="WL").values_list("id", flat=True))
    chosen = rng.sample(ids, min(len(ids), 2000))
    respondents = [
        Respondent(b.pk, b.name, b.uscc, b.address, b.county_id or "")
        for b in Business.objects.filter(pk__in=chosen).order_by("id")
    ]
    today = local_date(dt.datetime.now(dt.UTC))
    made = []
    for n in range(count):
        respondent = rng.choice(respondents)
        amount = f"{rng.lognormvariate(5.8, 1.0):.2f}"
        made.append(
            Complaint(
                by=people[n % len(people)],
                respondent=respondent,
                category=rng.choice(("G01", "G02", "G05", "S03", "S11")),
                amount=amount,
                occurred_on=today - dt.timedelta(days=rng.randint(0, 20)),
                facts=f"在{respondent.name}购买商品，金额{amount}元，商品有质量问题，商家拒绝退换。",
                demand=rng.choice(DEMANDS),
            )
        )
    return made


def request_source(items: list[Complaint]) -> Callable[[int], Request]:
    def source(index: int) -> Request:
        complaint = items[index % len(items)]
        return Request(
            "POST",
            "/api/v1/complaints",
            complaint.body(),
            {
                "Authorization": f"Bearer {complaint.by.token}",
                "Content-Type": "application/json",
            },
        )

    return source


# --- The raw ceiling ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RawRows:
    """Column lists and constant parts shared by the raw writers."""

    case: Table
    event: Table
    deadline: Table
    workdays: Workdays
    note: str

    @classmethod
    def prepare(cls) -> RawRows:
        today = local_date(dt.datetime.now(dt.UTC))
        with translation.override("zh-hans"):
            note = f"经{Channel.WEB.label}提交"
        return cls(
            case=Table(Case, CASE_COLUMNS),
            event=Table(CaseEvent, EVENT_COLUMNS),
            deadline=Table(Deadline, DEADLINE_COLUMNS),
            workdays=Workdays.around(today - dt.timedelta(days=30), today),
            note=note,
        )

    def rows(
        self, item: Complaint, case_id: int, *, draft: bool = False
    ) -> tuple[tuple[Any, ...], ...]:
        """The case, event and clock rows of a complaint filed now, as the intake writes them
        (a draft: the case row only, before its id, number and hash are known)."""
        now = dt.datetime.now(dt.UTC)
        day = local_date(now)
        number = format_number(kind="complaint", received_on=day, sequence=case_id)
        data = {"channel": "web", "on_behalf": False}
        digest = (
            ""
            if draft
            else event_digest(
                prev_hash=GENESIS,
                case_number=number,
                seq=1,
                at=now,
                action="submit",
                actor_id=item.by.user_id,
                department_id=item.respondent.county,
                visibility="public",
                note=self.note,
                data=data,
            )
        )
        values = {
            "id": case_id,
            "number": number,
            "kind": "complaint",
            "status": "submitted",
            "outcome": "",
            "rules": str(rules_for(now)),
            "channel": "web",
            "department_id": item.respondent.county,
            "handler_unit_id": None,
            "received_at": now,
            "consumer_id": item.by.user_id,
            "created_by_id": item.by.user_id,
            "party_name": item.by.name,
            "party_phone": item.by.phone,
            "party_address": item.by.address,
            "respondent_id": item.respondent.id,
            "respondent_name": item.respondent.name,
            "respondent_uscc": item.respondent.uscc,
            "respondent_address": item.respondent.address,
            "platform_name": "",
            "platform_address": "",
            "category": item.category,
            "amount": Decimal(item.amount),
            "occurred_on": item.occurred_on,
            "facts": item.facts,
            "demand": item.demand,
            "notify_me": False,
            "answer": "",
            "amount_recovered": None,
            "satisfaction": None,
            "resolved": None,
            "rated_at": None,
            "closed_at": None,
            "next_due": self.workdays.add(day, ACCEPT_WORKING_DAYS),  # the accept clock's due
            "version": 1,
            "event_head": digest,
            "created_at": now,
            "updated_at": now,
        }
        case = tuple(values[name] for name in CASE_COLUMNS) + self.case.tail
        event = (
            case_id,
            1,
            now,
            "submit",
            item.by.user_id,
            item.respondent.county,
            "public",
            self.note,
            data,
            GENESIS,
            digest,
        ) + self.event.tail
        due = self.workdays.add(day, ACCEPT_WORKING_DAYS)
        clock = (
            case_id,
            ClockKind.ACCEPT.value,
            item.respondent.county,
            day,
            due,
            None,
            0,
            None,
            False,
            False,
            False,
            now,
        ) + self.deadline.tail
        return case, event, clock


def _insert(table: Table, *, with_id: bool, placeholder: str) -> str:
    """The INSERT of a table's columns (identifiers from the model, values as parameters)."""
    columns = table.db_columns if with_id else table.db_columns[1:]
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join([placeholder] * len(columns))
    return f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'  # noqa: S608


Worker = Callable[[Callable[[], bool], Callable[[float], None], Callable[[], None]], None]


def _run_threads(
    worker: Worker,
    *,
    connections: int,
    seconds: float,
    warmup: float,
    on_measure_start: Callable[[], None],
    on_measure_end: Callable[[], None],
) -> LoadResult:
    """Run `worker(keep_going, record, linger)` on `connections` threads, measuring like
    closed_loop; `linger` holds a worker's connection open until the CPU window is closed."""
    lock = threading.Lock()
    closed = threading.Event()
    begin = time.monotonic()
    measure_from, until = begin + warmup, begin + warmup + seconds
    result = LoadResult(seconds)

    def keep_going() -> bool:
        return time.monotonic() < until

    def record(started: float) -> None:
        done = time.monotonic()
        if started >= measure_from and done <= until:
            with lock:
                result.latencies.append(done - started)
                result.statuses["201"] += 1

    threads = [
        threading.Thread(target=worker, args=(keep_going, record, closed.wait), daemon=True)
        for _ in range(connections)
    ]
    for thread in threads:
        thread.start()
    time.sleep(max(measure_from - time.monotonic(), 0))
    on_measure_start()
    time.sleep(max(until - time.monotonic(), 0))
    on_measure_end()
    closed.set()
    for thread in threads:
        thread.join()
    return result


def raw_postgresql(
    items: list[Complaint],
    *,
    connections: int,
    seconds: float,
    warmup: float,
    on_measure_start: Callable[[], None],
    on_measure_end: Callable[[], None],
) -> LoadResult:
    import psycopg
    from psycopg.types.json import Jsonb

    rows = RawRows.prepare()
    given = connection.settings_dict
    params = {
        "dbname": given["NAME"],
        "user": given["USER"],
        "password": given["PASSWORD"] or None,
        "host": given["HOST"] or None,
        "port": given["PORT"] or None,
    }
    case_sql = _insert(rows.case, with_id=True, placeholder="%s")
    event_sql = _insert(rows.event, with_id=False, placeholder="%s")
    clock_sql = _insert(rows.deadline, with_id=False, placeholder="%s")
    counter = iter(range(10**12))
    lock = threading.Lock()

    def worker(
        keep_going: Callable[[], bool], record: Callable[[float], None], linger: Callable[[], None]
    ) -> None:
        with psycopg.connect(**params) as conn:
            while keep_going():
                with lock:
                    item = items[next(counter) % len(items)]
                started = time.monotonic()
                case_id = conn.execute(
                    "SELECT nextval(pg_get_serial_sequence('cases_case', 'id'))"
                ).fetchone()[0]  # type: ignore[index]
                case, event, clock = rows.rows(item, case_id)
                event = tuple(Jsonb(v) if isinstance(v, dict) else v for v in event)
                with conn.pipeline():
                    conn.execute(case_sql, case)
                    conn.execute(event_sql, event)
                    conn.execute(clock_sql, clock)
                    conn.commit()
                record(started)
            linger()

    return _run_threads(
        worker,
        connections=connections,
        seconds=seconds,
        warmup=warmup,
        on_measure_start=on_measure_start,
        on_measure_end=on_measure_end,
    )


def _sqlite_value(value: Any) -> Any:
    """As Django stores values in SQLite: UTC datetimes as text, booleans as integers."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def raw_sqlite(
    items: list[Complaint],
    *,
    connections: int,
    seconds: float,
    warmup: float,
    on_measure_start: Callable[[], None],
    on_measure_end: Callable[[], None],
) -> LoadResult:
    rows = RawRows.prepare()
    path = str(settings.DATABASES["default"]["NAME"])
    case_sql = _insert(rows.case, with_id=False, placeholder="?")
    event_sql = _insert(rows.event, with_id=False, placeholder="?")
    clock_sql = _insert(rows.deadline, with_id=False, placeholder="?")
    number_sql = f'UPDATE "{rows.case.name}" SET "number" = ?, "event_head" = ? WHERE "id" = ?'  # noqa: S608
    counter = iter(range(10**12))
    lock = threading.Lock()

    def worker(
        keep_going: Callable[[], bool], record: Callable[[float], None], linger: Callable[[], None]
    ) -> None:
        db = sqlite3.connect(path, timeout=20, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        while keep_going():
            with lock:
                serial = next(counter)
                item = items[serial % len(items)]
            started = time.monotonic()
            db.execute("BEGIN IMMEDIATE")
            draft = rows.rows(item, 0, draft=True)[0]
            placeholder = [f"tmp-raw-{threading.get_ident()}-{serial}", *draft[2:]]
            case_id = db.execute(case_sql, [_sqlite_value(v) for v in placeholder]).lastrowid
            assert case_id is not None
            case, event, clock = rows.rows(item, case_id)
            db.execute(number_sql, (case[1], case[CASE_COLUMNS.index("event_head")], case_id))
            db.execute(event_sql, [_sqlite_value(v) for v in event])
            db.execute(clock_sql, [_sqlite_value(v) for v in clock])
            db.execute("COMMIT")
            record(started)
        linger()
        db.close()

    return _run_threads(
        worker,
        connections=connections,
        seconds=seconds,
        warmup=warmup,
        on_measure_start=on_measure_start,
        on_measure_end=on_measure_end,
    )
