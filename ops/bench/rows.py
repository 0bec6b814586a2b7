"""The rows a simulated case leaves: the case, its hash-chained events (the digests of
`cases.events.event_digest`, computed by `ops.bench.digests`; the data column holds the same
compact JSON text that is hashed), its clocks with the marks the last sweep left on them, the
supervision orders that sweep raised for late clocks (with their answers) and the due-soon
notices it sent. The column lists name the model fields the generator fills (`loading.Table`).
"""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass, field
from decimal import Decimal
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any

from cases.events import GENESIS
from cases.models import ClockKind, Status
from cases.rules import SHANGHAI
from ops.bench.digests import chain_digest, json_string
from ops.bench.loading import Row, day_text, iso_day, moment_text
from supervision import rollups

if TYPE_CHECKING:
    from ops.bench.lifecycle import Life

EVENT_STRIDE = 16  # ids per case: at most 6 workflow events + 3 orders with their answers
CLOCK_STRIDE = 4  # at most 3 clocks per case, each with at most one order and one notice


@dataclass(slots=True)
class Clock:
    index: int
    kind: str
    department: str
    started_on: dt.date
    due: dt.date
    created_at: dt.datetime
    met_at: dt.datetime | None = None
    cancelled_at: dt.datetime | None = None


# An event: (at, action, actor id, department code, visibility, note, data), the data as the JSON
# text `digests.json_text` writes (compact, sorted keys), which the row holds and the chain
# hashes. A plain tuple: cases make several each, and a dataclass costs ten times as much.
Event = tuple[dt.datetime, str, int | None, str | None, str, str, str]


# What the cases of a chunk count per holding unit, before the hierarchy (`count_case`):
# (unit, metric, day ordinal, key) -> (n, amount in cents). Plain ints and strings: marshal
# sends it from a worker at a fraction of pickle's cost.
HolderCell = tuple[str, str, int, str]
HolderCounts = dict[HolderCell, tuple[int, int]]
# What a clock counts by: (due, met_at, overdue, cancelled, due_soon), as `rollups.Clock`.
CountedClock = tuple[dt.date, dt.datetime | None, bool, bool, bool]


@dataclass
class Rows:
    """The rows of one chunk, per table."""

    cases: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    deadlines: list[Row] = field(default_factory=list)
    orders: list[Row] = field(default_factory=list)
    notices: list[Row] = field(default_factory=list)
    rollups: HolderCounts = field(default_factory=dict)


# --- Rendering a life ----------------------------------------------------------------


# Every moment of a simulated case is built in Asia/Shanghai (`ops.bench.lifecycle`): its local
# date (`cases.rules.local_date`) is its `date()`.


_ACCEPT = str(ClockKind.ACCEPT)


def supervision(life: Life, clock: Clock, deadline_id: int, rows: Rows) -> None:
    """The overdue order the sweep raised the day after the due date, and its answer: an order
    past its own due date is answered (else the last sweep would have escalated it)."""
    plan, rng = life.plan, life.rng
    raised_on = clock.due + dt.timedelta(days=1)
    raised = dt.datetime.combine(raised_on, dt.time(0, 5), tzinfo=SHANGHAI)
    if raised_on > plan.last_day:
        return
    holder = clock.department if clock.kind != _ACCEPT else life.fields["department_id"]
    superior = plan.units[holder].parent
    if superior is None:
        return
    order_id = plan.ids["order"] + life.offset * CLOCK_STRIDE + clock.index
    due = plan.workdays.add(raised_on, 3)
    label = plan.texts[f"clock:{clock.kind}"]
    instructions = f"{label}已于 {clock.due.isoformat()} 届满仍未办结，请立即办理并说明超期原因。"
    data = (
        f'{{"due":"{due.isoformat()}","from":{json_string(superior)},"kind":"overdue",'
        f'"order":{order_id:d},"to":{json_string(holder)}}}'
    )
    order = (raised, "supervision_order", None, superior, "internal", instructions, data)
    life.record(order, action=False)
    window = dt.datetime.combine(due, dt.time(17, 30), tzinfo=SHANGHAI) - raised
    spare = (window - dt.timedelta(hours=8)).total_seconds()
    answered_at = raised + dt.timedelta(hours=8, seconds=int(spare * rng.random()))
    answered = due < plan.last_day or (answered_at < plan.cutoff and rng.random() < 0.7)
    response, responder = "", None
    if answered:
        response, responder = "已督促承办人员加快办理，将按期反馈。", life.staff(holder)
        data = f'{{"kind":"overdue","order":{order_id:d}}}'
        answer = (answered_at, "supervision_answer", responder, holder, "internal", response, data)
        life.record(answer, action=False)
    rows.orders.append(
        (
            order_id,
            life.id,
            deadline_id,
            None,
            "overdue",
            superior,
            holder,
            instructions,
            due,
            "answered" if answered else "open",
            response,
            responder,
            answered_at if answered else None,
            None,
            0,
            raised,
            None,
            "",
            "",
        )
    )


def render(life: Life, rows: Rows) -> None:
    plan = life.plan
    last_day = plan.last_day
    limit = plan.workdays.add(last_day, 3)
    first = life.offset * CLOCK_STRIDE
    counted: list[CountedClock] = []
    next_due: dt.date | None = None  # the earliest due date of the running clocks
    for clock in life.clocks:
        deadline_id = plan.ids["deadline"] + first + clock.index
        due, met_at = clock.due, clock.met_at
        # Marks (due soon, overdue) as the sweep of the last day left them.
        cancelled = clock.cancelled_at is not None
        if cancelled:
            due_soon = overdue = False
        elif met_at is not None:
            due_soon, overdue = False, met_at.date() > due
        else:
            overdue = due < last_day
            due_soon = not overdue and due < limit
            next_due = due if next_due is None else min(next_due, due)
        counted.append((due, met_at, overdue, cancelled, due_soon))
        rows.deadlines.append(
            (deadline_id, life.id, clock.kind, clock.department, clock.started_on, due, None, 0,
             met_at, cancelled, due_soon, overdue, clock.created_at)
        )  # fmt: skip
        if not plan.supervision:
            continue
        if overdue:
            supervision(life, clock, deadline_id, rows)
        if due_soon:
            told = max(clock.created_at, plan.cutoff - dt.timedelta(hours=23, minutes=55))
            rows.notices.append((plan.ids["notice"] + first + clock.index, deadline_id, due, told))
    life.fields["next_due"] = next_due
    _render_events(life, rows)
    _render_case(life, rows)
    count_case(life.fields, counted, rows.rollups)


_AT = operator.itemgetter(0)


def _render_events(life: Life, rows: Rows) -> None:
    number = encode_basestring(life.fields["number"])
    previous = GENESIS
    base = life.plan.ids["event"] + life.offset * EVENT_STRIDE - 1
    case_id, append = life.id, rows.events.append
    for seq, event in enumerate(sorted(life.events, key=_AT), start=1):
        at, action, actor, department, visibility, note, data = event
        digest = chain_digest(
            previous, number, seq, at, action, actor, department, visibility, note, data
        )
        append(
            (base + seq, case_id, seq, at, action, actor, department, visibility, note, data,
             previous, digest)
        )  # fmt: skip
        previous = digest
    life.fields["event_head"] = previous
    life.fields["updated_at"] = max(event[0] for event in life.events)


CASE_COLUMNS = (
    "id", "number", "kind", "status", "outcome", "rules", "channel", "department_id",
    "handler_unit_id", "received_at", "consumer_id", "created_by_id", "party_name", "party_phone",
    "party_address", "respondent_id", "respondent_name", "respondent_uscc", "respondent_address",
    "platform_name", "platform_address", "category", "amount", "occurred_on", "facts", "demand",
    "notify_me", "answer", "amount_recovered", "satisfaction", "resolved", "rated_at", "closed_at",
    "next_due", "version", "event_head", "created_at", "updated_at",
)  # fmt: skip
EVENT_COLUMNS = (
    "id",
    "case_id",
    "seq",
    "at",
    "action",
    "actor_id",
    "department_id",
    "visibility",
    "note",
    "data",
    "prev_hash",
    "hash",
)
DEADLINE_COLUMNS = (
    "id", "case_id", "kind", "department_id", "started_on", "due", "paused_since",
    "extended_days", "met_at", "cancelled", "due_soon", "overdue", "created_at",
)  # fmt: skip
ORDER_COLUMNS = (
    "id", "case_id", "deadline_id", "tracking_id", "kind", "from_department_id",
    "to_department_id", "instructions", "due", "status", "response", "responded_by_id",
    "responded_at", "escalated_to_id", "round", "created_at", "created_by_id", "idempotency_key",
    "request_hash",
)  # fmt: skip
NOTICE_COLUMNS = ("id", "deadline_id", "due", "created_at")
USER_COLUMNS = (
    "id",
    "password",
    "username",
    "is_active",
    "date_joined",
    "real_name",
    "phone",
    "is_verified",
    "updated_at",
)
BUSINESS_COLUMNS = ("id", "name", "uscc", "address", "county_id", "created_at", "updated_at")
ROLLUP_COLUMNS = ("unit_id", "child", "metric", "day", "key", "n", "amount")


_CASE_ROW = operator.itemgetter(*CASE_COLUMNS)


# --- COPY lines of the big tables (`loading.Table(line=...)`) ----------------------------------
# The same text as `loading.copy_value` per value (tests compare them), written out for the
# types each column holds here, in the order of the *_COLUMNS lists; the Table checks the result
# and takes the escaping path when a value needs it.


_N = "\\N"


def _bool(value: bool | None) -> str:
    return _N if value is None else "t" if value else "f"


def _moment(value: dt.datetime | None) -> str:
    return _N if value is None else moment_text(value)


def case_line(r: Row) -> str:
    (
        id_, number, kind, status, outcome, rules, channel, department, handler, received,
        consumer, created_by, party_name, party_phone, party_address, respondent,
        respondent_name, respondent_uscc, respondent_address, platform_name, platform_address,
        category, amount, occurred_on, facts, demand, notify_me, answer, recovered, satisfaction,
        resolved, rated_at, closed_at, next_due, version, event_head, created_at, updated_at,
    ) = r  # fmt: skip
    received_text = moment_text(received)
    created_text = received_text if created_at is received else moment_text(created_at)
    return (
        f"{id_}\t{number}\t{kind}\t{status}\t{outcome}\t{rules}\t{channel}\t{department}\t"
        f"{_N if handler is None else handler}\t{received_text}\t"
        f"{_N if consumer is None else consumer}\t{created_by}\t{party_name}\t{party_phone}\t"
        f"{party_address}\t{_N if respondent is None else respondent}\t{respondent_name}\t"
        f"{respondent_uscc}\t{respondent_address}\t{platform_name}\t{platform_address}\t"
        f"{category}\t{_N if amount is None else amount}\t"
        f"{_N if occurred_on is None else day_text(occurred_on)}\t{facts}\t{demand}\t"
        f"{_bool(notify_me)}\t{answer}\t{_N if recovered is None else recovered}\t"
        f"{_N if satisfaction is None else satisfaction}\t{_bool(resolved)}\t"
        f"{_moment(rated_at)}\t{_moment(closed_at)}\t"
        f"{_N if next_due is None else day_text(next_due)}\t{version}\t{event_head}\t"
        f"{created_text}\t{moment_text(updated_at)}"
    )


def event_line(r: Row) -> str:
    id_, case_id, seq, at, action, actor, department, visibility, note, data, previous, hash_ = r
    return (
        f"{id_}\t{case_id}\t{seq}\t{moment_text(at)}\t{action}\t"
        f"{_N if actor is None else actor}\t{_N if department is None else department}\t"
        f"{visibility}\t{note}\t{data}\t{previous}\t{hash_}"
    )


def deadline_line(r: Row) -> str:
    (
        id_, case_id, kind, department, started_on, due, paused_since, extended_days, met_at,
        cancelled, due_soon, overdue, created_at,
    ) = r  # fmt: skip
    return (
        f"{id_}\t{case_id}\t{kind}\t{department}\t{day_text(started_on)}\t{day_text(due)}\t"
        f"{_N if paused_since is None else day_text(paused_since)}\t{extended_days}\t"
        f"{_moment(met_at)}\t{_bool(cancelled)}\t{_bool(due_soon)}\t{_bool(overdue)}\t"
        f"{moment_text(created_at)}"
    )


def order_line(r: Row) -> str:
    (
        id_, case_id, deadline_id, tracking, kind, from_department, to_department, instructions,
        due, status, response, responder, responded_at, escalated_to, round_, created_at,
        created_by, idempotency_key, request_hash,
    ) = r  # fmt: skip
    return (
        f"{id_}\t{case_id}\t{deadline_id}\t{_N if tracking is None else tracking}\t{kind}\t"
        f"{from_department}\t{to_department}\t{instructions}\t{day_text(due)}\t{status}\t"
        f"{response}\t{_N if responder is None else responder}\t{_moment(responded_at)}\t"
        f"{_N if escalated_to is None else escalated_to}\t{round_}\t{moment_text(created_at)}\t"
        f"{_N if created_by is None else created_by}\t{idempotency_key}\t{request_hash}"
    )


def notice_line(r: Row) -> str:
    id_, deadline_id, due, created_at = r
    return f"{id_}\t{deadline_id}\t{day_text(due)}\t{moment_text(created_at)}"


def user_line(r: Row) -> str:
    """A generated consumer (`ops.workload._people_rows`). Booleans as `str()` writes them, as the
    table's generic path did ("True": PostgreSQL reads it as "t")."""
    id_, password, username, is_active, joined, real_name, phone, verified, updated_at = r
    joined_text = moment_text(joined)
    updated_text = joined_text if updated_at is joined else moment_text(updated_at)
    return (
        f"{id_}\t{password}\t{username}\t{is_active}\t{joined_text}\t{real_name}\t"
        f"{phone}\t{verified}\t{updated_text}"
    )


def business_line(r: Row) -> str:
    id_, name, uscc, address, county, created_at, updated_at = r
    return (
        f"{id_}\t{name}\t{uscc}\t{address}\t{county}\t{moment_text(created_at)}\t"
        f"{moment_text(updated_at)}"
    )


def _render_case(life: Life, rows: Rows) -> None:
    f = life.fields
    f["status"], f["outcome"], f["handler_unit_id"] = life.status, life.outcome, life.handler
    f["closed_at"], f["version"] = life.closed_at, life.version
    rows.cases.append(_CASE_ROW(f))


# --- What a case counts in the monitoring rollups -------------------------------------------------
# `rollups.case_rows` says what a case counts, spread (`rollups.spread`) over every unit on its
# holder's or its department's path. Here a case's counts are kept per holding unit (child ""),
# summed over the chunk in integers (cents); `spread_rollups` then adds each holder's sums to the
# rows `rollups.spread` gives its real path, as `case_rows` would have per case. `count_case`
# writes out `rollups.contributions` (and the HELD row) for the generator's cases instead of
# building `Counts` of Decimals per case, at a quarter of the cost. Tests compare both on every
# case of generated chunks, and the generated database with `rollups.differences()`.

_NOW = rollups.NOW.toordinal()
_OPEN = frozenset(str(status) for status in rollups.OPEN_STATUSES)
_CLOSED = str(Status.CLOSED)
_CLOSED_KEYS = {str(outcome): str(outcome) for outcome in rollups.CLOSED_KEYS}
_KEYS: dict[tuple[str, str], str] = {}  # (kind, channel or status) -> "kind/channel", plain str
_PLAIN: dict[str, str] = {}  # a choice -> the same text as a plain str (marshal takes no enum)


def _key(first: str, second: str) -> str:
    key = _KEYS.get((first, second))
    if key is None:
        key = _KEYS[first, second] = f"{str(first)}/{str(second)}"
    return key


def _plain(choice: str) -> str:
    text = _PLAIN.get(choice)
    if text is None:
        text = _PLAIN[choice] = str(choice)
    return text


def _count(into: HolderCounts, cell: HolderCell, cents: int) -> None:
    old = into.get(cell)
    into[cell] = (1, cents) if old is None else (old[0] + 1, old[1] + cents)


def count_case(fields: dict[str, Any], clocks: list[CountedClock], into: HolderCounts) -> None:
    """Add what the case counts, per holding unit, to `into`: the rows of
    `rollups.contributions` at its holder, in the same order, then its HELD row at its
    department (amounts in cents)."""
    department = fields["department_id"]
    handler = fields["handler_unit_id"]
    holder = department if handler is None else handler
    kind, status = fields["kind"], fields["status"]
    received = fields["received_at"]
    _count(
        into,
        (holder, rollups.RECEIVED, received.date().toordinal(), _key(kind, fields["channel"])),
        0,
    )
    if status in _OPEN:
        _count(into, (holder, rollups.OPEN, _NOW, _plain(status)), 0)
        flagged_overdue = flagged_due_soon = False
        for _due, met_at, overdue, cancelled, due_soon in clocks:
            if met_at is None and not cancelled:
                flagged_overdue = flagged_overdue or overdue
                flagged_due_soon = flagged_due_soon or due_soon
        if flagged_overdue:
            _count(into, (holder, rollups.FLAGGED, _NOW, rollups.OVERDUE_FLAG), 0)
        if flagged_due_soon:
            _count(into, (holder, rollups.FLAGGED, _NOW, rollups.DUE_SOON_FLAG), 0)
    closed = fields["closed_at"]
    if status == _CLOSED and closed is not None:
        recovered = fields["amount_recovered"]
        cents = 0 if recovered is None else _cents(Decimal(recovered))
        outcome = _CLOSED_KEYS.get(fields["outcome"], "")
        _count(into, (holder, rollups.CLOSED, closed.date().toordinal(), outcome), cents)
    satisfaction, rated = fields["satisfaction"], fields["rated_at"]
    if satisfaction is not None and rated is not None:
        day = rated.date().toordinal()
        _count(into, (holder, rollups.RATED, day, ""), _cents(Decimal(satisfaction)))
    for due, met_at, overdue, cancelled, _due_soon in clocks:
        if cancelled or (met_at is None and not overdue):
            continue
        on_time = met_at is not None and met_at.date() <= due
        _count(into, (holder, rollups.CLOCK, due.toordinal(), ""), 100 if on_time else 0)
    _count(into, (department, rollups.HELD, _NOW, _key(kind, status)), 0)


def _cents(amount: Decimal) -> int:
    cents = amount.scaleb(2)
    if cents != cents.to_integral_value():
        raise ValueError(f"a rollup amount finer than cents: {amount}")
    return int(cents)


def add_counts(into: HolderCounts, counts: HolderCounts) -> None:
    for cell, (n, cents) in counts.items():
        old = into.get(cell)
        into[cell] = (n, cents) if old is None else (old[0] + n, old[1] + cents)


RollupCell = tuple[str, str, int, str, str]  # unit, metric, day ordinal, key, child
_LEVELS: dict[str, list[tuple[str, str]]] = {}


def _levels(path: str) -> list[tuple[str, str]]:
    """(unit, child) of each row that a count held at `path` adds to, as `rollups.spread` puts
    it: asked of `spread` itself with one probe cell."""
    levels = _LEVELS.get(path)
    if levels is None:
        probe = rollups.Counts({("", rollups.NOW, ""): (1, rollups.ZERO)})
        spread = rollups.spread(path, probe)
        if any(value != (1, rollups.ZERO) for value in spread.values()):
            raise ValueError(f"rollups.spread counts a unit of {path} twice")
        levels = _LEVELS[path] = [(unit, child) for unit, _m, _d, _k, child in spread]
    return levels


def spread_rollups(
    counts: HolderCounts, paths: dict[str, str]
) -> dict[RollupCell, tuple[int, int]]:
    """The rollup rows of holder counts: each holder's counts added to every (unit, child) that
    `rollups.spread` gives its path, in integers (cents)."""
    rows: dict[RollupCell, tuple[int, int]] = {}
    get = rows.get
    levels_of = {unit: _levels(paths[unit]) for unit in {cell[0] for cell in counts}}
    for (holder, metric, day, key), (n, cents) in counts.items():
        for unit, child in levels_of[holder]:
            row = (unit, metric, day, key, child)
            old = get(row)
            rows[row] = (n, cents) if old is None else (old[0] + n, old[1] + cents)
    return rows


def rollup_counts(rows: dict[RollupCell, tuple[int, int]]) -> rollups.Counts:
    """The rows as `rollups.Counts` (dates, Decimal amounts), as `upsert` takes them."""
    days: dict[int, dt.date] = {}
    counts = rollups.Counts()
    for (unit, metric, ordinal, key, child), (n, cents) in rows.items():
        day = days.get(ordinal)
        if day is None:
            day = days[ordinal] = dt.date.fromordinal(ordinal)
        counts[(unit, metric, day, key, child)] = (n, Decimal(cents).scaleb(-2))
    return counts


def _money(cents: int) -> str:
    whole, part = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{whole}.{part:02d}"


def rollup_text(rows: dict[RollupCell, tuple[int, int]]) -> str:
    """The rows as COPY text in ROLLUP_COLUMNS order, rows that count nothing left out. Codes,
    metrics and keys are written as they are: the caller checks that none needed escaping."""
    return "".join(
        f"{unit}\t{child}\t{metric}\t{iso_day(day)}\t{key}\t{n}\t{_money(cents)}\n"
        for (unit, metric, day, key, child), (n, cents) in rows.items()
        if n or cents
    )


def partition(path: str) -> str:
    """The province of a path (its second code; the national unit's own code for itself). Holders
    in different partitions never count in the same rollup row (a row's child is the next code
    down the path), so partitions are spread and written independently."""
    codes = [code for code in path.split("/") if code]
    return codes[1] if len(codes) > 1 else codes[0]


def split_counts(counts: HolderCounts, partitions: dict[str, str]) -> dict[str, HolderCounts]:
    """`counts` by the partition of each holder."""
    parts: dict[str, HolderCounts] = {}
    for cell, value in counts.items():
        part = partitions[cell[0]]
        into = parts.get(part)
        if into is None:
            into = parts[part] = {}
        into[cell] = value
    return parts
