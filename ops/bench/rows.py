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
from cases.models import ClockKind
from cases.rules import SHANGHAI, local_date
from ops.bench.digests import chain_digest, json_text
from ops.bench.loading import Row, iso_day, moment_text
from supervision import rollups

if TYPE_CHECKING:
    from ops.bench.lifecycle import Life, Plan

EVENT_STRIDE = 16  # ids per case: at most 6 workflow events + 3 orders with their answers
CLOCK_STRIDE = 4  # at most 3 clocks per case, each with at most one order and one notice


@dataclass
class Clock:
    index: int
    kind: str
    department: str
    started_on: dt.date
    due: dt.date
    created_at: dt.datetime
    met_at: dt.datetime | None = None
    cancelled_at: dt.datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.met_at is None and self.cancelled_at is None

    @property
    def ended_at(self) -> dt.datetime | None:
        return self.met_at or self.cancelled_at


@dataclass
class Event:
    at: dt.datetime
    action: str
    actor: int | None
    department: str | None
    visibility: str
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)


# What the cases of a chunk count per holding unit, before the hierarchy (`count_case`):
# (unit, metric, day ordinal, key) -> (n, amount in cents). Plain ints and strings: marshal
# sends it from a worker at a fraction of pickle's cost.
HolderCell = tuple[str, str, int, str]
HolderCounts = dict[HolderCell, tuple[int, int]]


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


def clock_marks(plan: Plan, clock: Clock, limit: dt.date) -> tuple[bool, bool]:
    """(due_soon, overdue) as the sweep of the last day left them."""
    if clock.cancelled_at is not None:
        return False, False
    if clock.met_at is not None:
        return False, local_date(clock.met_at) > clock.due
    overdue = clock.due < plan.last_day
    return (not overdue and clock.due < limit), overdue


def supervision(life: Life, clock: Clock, deadline_id: int, rows: Rows) -> None:
    """The overdue order the sweep raised the day after the due date, and its answer: an order
    past its own due date is answered (else the last sweep would have escalated it)."""
    plan, rng = life.plan, life.rng
    raised_on = clock.due + dt.timedelta(days=1)
    raised = dt.datetime.combine(raised_on, dt.time(0, 5), tzinfo=SHANGHAI)
    if raised_on > plan.last_day:
        return
    holder = clock.department if clock.kind != ClockKind.ACCEPT else life.fields["department_id"]
    superior = plan.units[holder].parent
    if superior is None:
        return
    order_id = plan.ids["order"] + life.offset * CLOCK_STRIDE + clock.index
    due = plan.workdays.add(raised_on, 3)
    label = plan.texts[f"clock:{clock.kind}"]
    instructions = f"{label}已于 {clock.due.isoformat()} 届满仍未办结，请立即办理并说明超期原因。"
    life.record(
        Event(
            raised,
            "supervision_order",
            None,
            superior,
            "internal",
            instructions,
            {
                "order": order_id,
                "kind": "overdue",
                "from": superior,
                "to": holder,
                "due": due.isoformat(),
            },
        ),
        action=False,
    )
    window = dt.datetime.combine(due, dt.time(17, 30), tzinfo=SHANGHAI) - raised
    spare = (window - dt.timedelta(hours=8)).total_seconds()
    answered_at = raised + dt.timedelta(hours=8, seconds=int(spare * rng.random()))
    answered = due < plan.last_day or (answered_at < plan.cutoff and rng.random() < 0.7)
    response, responder = "", None
    if answered:
        response, responder = "已督促承办人员加快办理，将按期反馈。", life.staff(holder)
        life.record(
            Event(
                answered_at,
                "supervision_answer",
                responder,
                holder,
                "internal",
                response,
                {"order": order_id, "kind": "overdue"},
            ),
            action=False,
        )
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
    limit = plan.workdays.add(plan.last_day, 3)
    counted = []
    for clock in life.clocks:
        deadline_id = plan.ids["deadline"] + life.offset * CLOCK_STRIDE + clock.index
        due_soon, overdue = clock_marks(plan, clock, limit)
        cancelled = clock.cancelled_at is not None
        counted.append(rollups.Clock(clock.due, clock.met_at, overdue, cancelled))
        rows.deadlines.append(
            (
                deadline_id,
                life.id,
                clock.kind,
                clock.department,
                clock.started_on,
                clock.due,
                None,
                0,
                clock.met_at,
                cancelled,
                due_soon,
                overdue,
                clock.created_at,
            )
        )
        if not plan.supervision:
            continue
        if overdue:
            supervision(life, clock, deadline_id, rows)
        if due_soon:
            told = max(clock.created_at, plan.cutoff - dt.timedelta(hours=23, minutes=55))
            rows.notices.append(
                (
                    plan.ids["notice"] + life.offset * CLOCK_STRIDE + clock.index,
                    deadline_id,
                    clock.due,
                    told,
                )
            )
    _render_events(life, rows)
    _render_case(life, rows)
    count_case(life.fields, counted, rows.rollups)


_AT = operator.attrgetter("at")


def _render_events(life: Life, rows: Rows) -> None:
    number = encode_basestring(life.fields["number"])
    previous = GENESIS
    base = life.plan.ids["event"] + life.offset * EVENT_STRIDE
    for seq, event in enumerate(sorted(life.events, key=_AT), start=1):
        data = json_text(event.data)
        digest = chain_digest(
            previous,
            number,
            seq,
            event.at,
            event.action,
            event.actor,
            event.department,
            event.visibility,
            event.note,
            data,
        )
        rows.events.append(
            (
                base + seq - 1,
                life.id,
                seq,
                event.at,
                event.action,
                event.actor,
                event.department,
                event.visibility,
                event.note,
                data,
                previous,
                digest,
            )
        )
        previous = digest
    life.fields["event_head"] = previous
    life.fields["updated_at"] = max(e.at for e in life.events)


CASE_COLUMNS = (
    "id", "number", "kind", "status", "outcome", "rules", "channel", "department_id",
    "handler_unit_id", "received_at", "consumer_id", "created_by_id", "party_name", "party_phone",
    "party_address", "respondent_id", "respondent_name", "respondent_uscc", "respondent_address",
    "platform_name", "platform_address", "category", "amount", "occurred_on", "facts", "demand",
    "notify_me", "answer", "amount_recovered", "satisfaction", "resolved", "rated_at", "closed_at",
    "version", "event_head", "created_at", "updated_at",
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
# types each column holds here, positions as in CASE_COLUMNS, EVENT_COLUMNS and DEADLINE_COLUMNS;
# the Table checks the result and takes the escaping path when a value needs it.


def _null(value: Any) -> Any:
    return "\\N" if value is None else value


def _bool(value: bool | None) -> str:
    return "\\N" if value is None else "t" if value else "f"


def _moment(value: dt.datetime | None) -> str:
    return "\\N" if value is None else moment_text(value)


def case_line(r: Row) -> str:
    return (
        f"{r[0]}\t{r[1]}\t{r[2]}\t{r[3]}\t{r[4]}\t{r[5]}\t{r[6]}\t{r[7]}\t{_null(r[8])}\t"
        f"{moment_text(r[9])}\t{_null(r[10])}\t{r[11]}\t{r[12]}\t{r[13]}\t{r[14]}\t"
        f"{_null(r[15])}\t{r[16]}\t{r[17]}\t{r[18]}\t{r[19]}\t{r[20]}\t{r[21]}\t"
        f"{_null(r[22])}\t{_null(r[23])}\t{r[24]}\t{r[25]}\t{_bool(r[26])}\t{r[27]}\t"
        f"{_null(r[28])}\t{_null(r[29])}\t{_bool(r[30])}\t{_moment(r[31])}\t{_moment(r[32])}\t"
        f"{r[33]}\t{r[34]}\t{moment_text(r[35])}\t{moment_text(r[36])}"
    )


def event_line(r: Row) -> str:
    return (
        f"{r[0]}\t{r[1]}\t{r[2]}\t{moment_text(r[3])}\t{r[4]}\t{_null(r[5])}\t{_null(r[6])}\t"
        f"{r[7]}\t{r[8]}\t{r[9]}\t{r[10]}\t{r[11]}"
    )


def deadline_line(r: Row) -> str:
    return (
        f"{r[0]}\t{r[1]}\t{r[2]}\t{r[3]}\t{r[4]}\t{r[5]}\t{_null(r[6])}\t{r[7]}\t"
        f"{_moment(r[8])}\t{_bool(r[9])}\t{_bool(r[10])}\t{_bool(r[11])}\t{moment_text(r[12])}"
    )


def _render_case(life: Life, rows: Rows) -> None:
    f = life.fields
    f.update(
        status=life.status,
        outcome=life.outcome,
        handler_unit_id=life.handler,
        closed_at=life.closed_at,
        version=life.version,
    )
    rows.cases.append(_CASE_ROW(f))


# --- What a case counts in the monitoring rollups -------------------------------------------------
# `rollups.case_rows` says what a case counts, spread (`rollups.spread`) over every unit on its
# holder's or its department's path. Here each case is given units whose path is their own code,
# so its rows come out per holding unit (child ""), summed over the chunk in integers (cents);
# `spread_rollups` then adds each holder's sums to the rows `rollups.spread` gives its real path,
# as `case_rows` would have per case, at a fraction of the cost. Tests compare both on every case
# of generated chunks, and the generated database with `rollups.differences()`.


@dataclass(frozen=True, slots=True)
class _Holder:
    path: str


_HOLDERS: dict[str, _Holder] = {}


def _holder(code: str) -> _Holder:
    holder = _HOLDERS.get(code)
    if holder is None:
        holder = _HOLDERS[code] = _Holder(code)
    return holder


class CountedCase:
    """The fields of a case that `rollups.case_rows` reads (and nothing else: a new read fails
    loudly here rather than counting a default)."""

    __slots__ = (
        "kind", "channel", "status", "received_at", "closed_at", "outcome", "amount_recovered",
        "satisfaction", "rated_at", "department", "handler_unit",
    )  # fmt: skip

    def __init__(self, fields: dict[str, Any]) -> None:
        recovered = fields["amount_recovered"]
        self.kind = str(fields["kind"])
        self.channel = str(fields["channel"])
        self.status = str(fields["status"])
        self.received_at = fields["received_at"]
        self.closed_at = fields["closed_at"]
        self.outcome = str(fields["outcome"])
        self.amount_recovered = None if recovered is None else Decimal(recovered)
        self.satisfaction = fields["satisfaction"]
        self.rated_at = fields["rated_at"]
        self.department = _holder(fields["department_id"])
        handler = fields["handler_unit_id"]
        self.handler_unit = None if handler is None else _holder(handler)


def _cents(amount: Decimal) -> int:
    cents = amount.scaleb(2)
    if cents != cents.to_integral_value():
        raise ValueError(f"a rollup amount finer than cents: {amount}")
    return int(cents)


def count_case(fields: dict[str, Any], clocks: list[rollups.Clock], into: HolderCounts) -> None:
    """Add what the case counts, per holding unit, to `into`."""
    counted = rollups.case_rows(CountedCase(fields), clocks)  # type: ignore[arg-type]
    for (unit, metric, day, key, child), (n, amount) in counted.items():
        if child:
            raise ValueError(f"rollups.case_rows spread a case beyond its units ({unit}/{child})")
        cell = (unit, metric, day.toordinal(), key)
        cents = _cents(amount) if amount else 0
        old = into.get(cell)
        into[cell] = (n, cents) if old is None else (old[0] + n, old[1] + cents)


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
