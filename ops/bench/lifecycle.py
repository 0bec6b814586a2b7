"""One case's life, simulated from receipt to the moment the workload is taken; `ops.bench.rows`
renders what it leaves behind.

`build_chunk(plan, n)` is a pure function of the plan (no database access: it runs in worker
processes), so the workload is the same whichever process builds which chunk.
"""

from __future__ import annotations

import datetime as dt
import random
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cases.models import ClockKind, Kind, Outcome, Status
from cases.numbering import SEQUENCE_DIGITS, format_number
from cases.rules import SHANGHAI, local_date, rules_for
from ops.bench.country import (
    CHANNEL_SHARES,
    DEMANDS,
    HOUR_WEIGHTS,
    KIND_SHARES,
    ONLINE,
    PLATFORMS,
    ROADS,
    BusinessRow,
    Draws,
    Picker,
    Unit,
    Workdays,
    consumer_phone,
    person_name,
)  # fmt: skip
from ops.bench.rows import Clock, Event, Rows, render

CHUNK = 5000
KINDS = Picker.of(dict(KIND_SHARES))
CHANNELS = {name: Picker.of(shares) for name, shares in CHANNEL_SHARES.items()}
SATISFACTION = Picker.of({5: 45, 4: 25, 3: 12, 2: 8, 1: 10})


@dataclass
class Plan:
    """Everything decided before the first case: picked by every chunk, never changed by one."""

    seed: int
    cases: int
    days: int
    until: dt.date
    supervision: bool
    ids: dict[str, int]  # first id per table
    generator_id: int
    staff: dict[str, int]  # department code -> generated staff user id
    units: dict[str, Unit]  # county-level units and everything above them
    provinces: Picker
    counties: dict[str, Picker]  # province code -> county-level units
    consumers: int
    businesses: list[BusinessRow]
    business_pickers: dict[str, Picker]  # province -> business index (Zipf)
    day_counts: list[tuple[dt.date, int]]
    workdays: Workdays
    texts: dict[str, str]  # translated labels and notes
    categories: Picker
    paths: dict[str, str] = field(default_factory=dict)  # department code -> path (rollups)
    # The moment the workload is taken (midnight starting `until`) and the day of the last
    # sweep before it: the state is the one at the end of that day.
    cutoff: dt.datetime = field(init=False)
    last_day: dt.date = field(init=False)

    def __post_init__(self) -> None:
        self.cutoff = dt.datetime.combine(self.until, dt.time.min, tzinfo=SHANGHAI)
        self.last_day = self.until - dt.timedelta(days=1)


# --- One case's life ---------------------------------------------------------------------------


class _Stop(Exception):
    """The next step would happen after the moment the workload is taken."""


class Life:
    """Simulates one case from receipt to the cutoff and renders its rows."""

    def __init__(self, plan: Plan, rng: random.Random, case_id: int, offset: int) -> None:
        self.plan, self.rng, self.id, self.offset = plan, rng, case_id, offset
        self.wd = plan.workdays
        self.events: list[Event] = []
        self.clocks: list[Clock] = []
        self.fields: dict[str, Any] = {}
        self.status, self.outcome = Status.SUBMITTED, ""
        self.handler: str | None = None
        self.version = 1
        self.closed_at: dt.datetime | None = None

    # -- moments --

    def work_time(self, day: dt.date) -> dt.datetime:
        seconds = 8 * 3600 + 1800 + self.rng.randrange(9 * 3600)
        return dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI) + dt.timedelta(
            seconds=seconds
        )

    def after(self, moment: dt.datetime, working_days: int) -> dt.datetime:
        """A working-hours moment `working_days` after `moment`, strictly later; _Stop past the
        cutoff."""
        day = local_date(moment)
        target = self.wd.add(day, working_days) if working_days else day
        later = self.work_time(target)
        if later <= moment:
            later = moment + dt.timedelta(minutes=self.rng.randint(10, 240))
        if later >= self.plan.cutoff:
            raise _Stop
        return later

    def staff(self, unit: str) -> int:
        return self.plan.staff[unit]

    # -- the workflow's records --

    def record(self, event: Event, *, action: bool = True) -> None:
        self.events.append(event)
        if action:
            self.version += 1

    def start(self, kind: str, unit: str, start: dt.date, due: dt.date, at: dt.datetime) -> Clock:
        clock = Clock(len(self.clocks), kind, unit, start, due, at)
        self.clocks.append(clock)
        return clock

    def meet(self, at: dt.datetime, *kinds: str) -> None:
        for clock in self.clocks:
            if clock.is_open and clock.kind in kinds:
                clock.met_at = at

    def close(self, at: dt.datetime, outcome: str) -> None:
        for clock in self.clocks:
            if clock.is_open:
                clock.cancelled_at = at
        self.status, self.outcome, self.closed_at = Status.CLOSED, outcome, at

    @property
    def holder(self) -> str:
        return self.handler or self.fields["department_id"]

    def staff_event(
        self, at: dt.datetime, action: str, unit: str, note: str = "", **data: Any
    ) -> None:
        self.record(Event(at, action, self.staff(unit), unit, "public", note, data))

    def accept(self, at: dt.datetime) -> str:
        department = self.fields["department_id"]
        stations = self.plan.units[department].stations
        self.handler = (
            self.rng.choice(stations) if stations and self.rng.random() < 0.4 else department
        )
        self.staff_event(
            at, "accept", department, handler_unit=self.handler, accepted_by=department
        )
        self.meet(at, ClockKind.ACCEPT)
        self.status = Status.ACCEPTED
        return self.handler

    def withdraw(self, at: dt.datetime) -> None:
        reason = self.rng.choice(("", "已与商家协商解决", "不再需要处理"))
        self.record(
            Event(
                at,
                "withdraw",
                self.fields["consumer_id"] or self.plan.generator_id,
                None,
                "public",
                reason,
                {},
            )
        )
        self.close(at, Outcome.WITHDRAWN)

    def reject(self, at: dt.datetime) -> None:
        ground = self.rng.choice(("out_of_scope", "already_handled", "not_consumer", "time_barred"))
        unit = self.fields["department_id"]
        self.staff_event(at, "reject", unit, "经审查，不符合受理条件。", ground=ground)
        self.meet(at, ClockKind.ACCEPT)
        self.close(at, Outcome.REJECTED)

    def notice_clock(self, kind: str, at: dt.datetime, working_days: int) -> None:
        """A clock met once the notice is delivered (seconds to minutes after the decision)."""
        clock = self.start(
            kind, self.holder, local_date(at), self.wd.add(local_date(at), working_days), at
        )
        delivered = at + dt.timedelta(minutes=self.rng.randint(1, 30))
        if delivered < self.plan.cutoff:
            clock.met_at = delivered

    # -- kinds --

    def complaint(self, received: dt.datetime) -> None:
        day, rng = local_date(received), self.rng
        self.start(
            ClockKind.ACCEPT, self.fields["department_id"], day, self.wd.add(day, 7), received
        )
        at = self.after(received, self.decision_delay())
        roll = rng.random()
        if roll < 0.12:
            return self.reject(at)
        if roll < 0.16 and self.fields["consumer_id"]:
            return self.withdraw(at)
        handler = self.accept(at)
        accepted = local_date(at)
        due = (
            self.wd.add(accepted, 45)
            if self.fields["rules"] == "o20"
            else self.wd.add_calendar(accepted, 60)
        )
        self.start(ClockKind.MEDIATE, handler, accepted, due, at)
        at = self.after(at, rng.randint(1, 5))
        roll = rng.random()
        if roll < 0.08:
            return self.terminate(at, "absent_or_refused")
        self.staff_event(at, "start_mediation", handler)
        self.status = Status.MEDIATING
        roll = rng.random()
        if roll < 0.62:
            at = self.after(at, min(int(rng.expovariate(1 / 12)) + 2, 55))
            amount = self.fields["amount"] or 0
            recovered = round(float(amount) * rng.uniform(0.3, 1.0), 2)
            self.fields["amount_recovered"] = f"{recovered:.2f}"
            self.staff_event(
                at,
                "record_agreement",
                handler,
                "双方自愿达成调解协议。",
                amount_recovered=f"{recovered:.2f}",
            )
            self.meet(at, ClockKind.MEDIATE)
            return self.close(at, Outcome.MEDIATED)
        if roll < 0.92:
            return self.terminate(self.after(at, rng.randint(5, 50)), "no_agreement_possible")
        at = self.after(at, rng.randint(2, 20))
        if self.fields["consumer_id"]:
            return self.withdraw(at)
        return self.terminate(at, "withdrawn_or_settled")

    def terminate(self, at: dt.datetime, ground: str) -> None:
        self.staff_event(
            at, "terminate", self.holder, "调解未能达成协议，终止调解。", ground=ground
        )
        self.meet(at, ClockKind.MEDIATE)
        self.close(at, Outcome.TERMINATED)
        self.notice_clock(ClockKind.NOTIFY_TERMINATION, at, 7)

    def report(self, received: dt.datetime) -> None:
        day, rng = local_date(received), self.rng
        self.fields["notify_me"] = rng.random() < 0.4
        self.start(
            ClockKind.ACCEPT, self.fields["department_id"], day, self.wd.add(day, 7), received
        )
        at = self.after(received, self.decision_delay())
        roll = rng.random()
        if roll < 0.10:
            unit = self.fields["department_id"]
            self.staff_event(
                at, "refer_out", unit, "请向有关主管部门反映。", authority="住房和城乡建设部门"
            )
            self.meet(at, ClockKind.ACCEPT)
            return self.close(at, Outcome.REFERRED)
        handler = self.accept(at)
        self.status = Status.VERIFYING
        self.start(ClockKind.VERIFY, handler, day, self.wd.add(day, 15), at)
        days = rng.choice((6, 8, 9, 10, 11, 12, 12, 13, 14, 14, 15, 15, 17, 20))
        at = self.after(at, max(days - self.wd_between(day, local_date(at)), 1))
        filed = rng.random() < 0.25
        self.staff_event(
            at, "decide", handler, "经核查，作出决定。", decision="filed" if filed else "not_filed"
        )
        self.meet(at, ClockKind.VERIFY)
        self.close(at, Outcome.CASE_FILED if filed else Outcome.NOT_FILED)
        if self.fields["notify_me"]:
            self.notice_clock(ClockKind.NOTIFY_DECISION, at, 5)
        return None

    def consultation(self, received: dt.datetime) -> None:
        day = local_date(received)
        self.start(
            ClockKind.ANSWER, self.fields["department_id"], day, self.wd.add(day, 7), received
        )
        at = self.after(received, self.decision_delay())
        if self.rng.random() < 0.03 and self.fields["consumer_id"]:
            return self.withdraw(at)
        answer = "已按相关法律法规作出答复，如有争议可依法投诉。"
        self.fields["answer"] = answer
        self.staff_event(at, "answer", self.fields["department_id"], answer)
        self.meet(at, ClockKind.ANSWER)
        return self.close(at, Outcome.ANSWERED)

    def decision_delay(self) -> int:
        """Working days to the first decision: mostly within the 7-day limit, a tail beyond."""
        roll = self.rng.random()
        if roll < 0.93:
            return self.rng.choice((1, 1, 2, 2, 2, 3, 3, 4, 5, 6, 7))
        return self.rng.randint(8, 14)

    def wd_between(self, start: dt.date, end: dt.date) -> int:
        ordinals = self.wd.ordinals
        return bisect_right(ordinals, end.toordinal()) - bisect_right(ordinals, start.toordinal())

    def rate(self) -> None:
        """Consumers with an account rate some closed cases (not rejections or answers)."""
        if (
            self.status != Status.CLOSED
            or not self.fields["consumer_id"]
            or self.rng.random() > 0.45
        ):
            return
        if self.outcome in (Outcome.REJECTED, Outcome.ANSWERED, Outcome.WITHDRAWN):
            return
        assert self.closed_at is not None
        try:
            at = self.after(self.closed_at, self.rng.randint(0, 5))
        except _Stop:
            return
        satisfaction = SATISFACTION.pick(self.rng)
        resolved = satisfaction >= 4
        self.fields.update(satisfaction=satisfaction, resolved=resolved, rated_at=at)
        self.record(
            Event(
                at,
                "rate",
                self.fields["consumer_id"],
                None,
                "public",
                "",
                {"satisfaction": satisfaction, "resolved": resolved},
            )
        )


# --- Drawing a case ----------------------------------------------------------------------------


def _draw_case(life: Life, received: dt.datetime) -> None:
    plan, rng = life.plan, life.rng
    kind = KINDS.pick(rng)
    channel = CHANNELS["asked" if kind == Kind.CONSULTATION else "filed"].pick(rng)
    province = plan.provinces.pick(rng)
    consumer = plan.ids["user"] + rng.randrange(plan.consumers) if channel in ONLINE else None
    party = person_name(consumer if consumer else life.id + 7)
    department = plan.counties[province].pick(rng)
    fields = life.fields
    fields.update(
        id=life.id,
        kind=kind,
        channel=channel,
        received_at=received,
        created_at=received,
        rules=rules_for(received),
        consumer_id=consumer,
        created_by_id=plan.generator_id,
        party_name=party,
        party_phone=consumer_phone(consumer) if consumer else f"13{rng.randrange(10**9):09d}",
        party_address=f"{plan.units[department].name}{rng.choice(ROADS)}{rng.randint(1, 999)}号",
        notify_me=False,
        answer="",
        amount_recovered=None,
        satisfaction=None,
        resolved=None,
        rated_at=None,
        respondent_id=None,
        respondent_name="",
        respondent_uscc="",
        respondent_address="",
        platform_name="",
        platform_address="",
        category="",
        amount=None,
        occurred_on=None,
        demand="",
    )
    if kind == Kind.CONSULTATION:
        fields["facts"] = "请问购买商品后发现质量问题，商家不予退换，应当如何维权？"
    else:
        department = _draw_dispute(life, province, department, received)
    fields["department_id"] = department
    fields["number"] = case_number(kind, local_date(received), life.id)


_NUMBER_PREFIXES: dict[tuple[str, dt.date], str] = {}


def case_number(kind: str, received_on: dt.date, sequence: int) -> str:
    """`cases.numbering.format_number`, its kind-and-date prefix computed once per day."""
    prefix = _NUMBER_PREFIXES.get((kind, received_on))
    if prefix is None:
        prefix = format_number(kind=kind, received_on=received_on, sequence=0)[:-SEQUENCE_DIGITS]
        _NUMBER_PREFIXES[kind, received_on] = prefix
    return f"{prefix}{sequence:0{SEQUENCE_DIGITS}d}"


def _draw_dispute(life: Life, province: str, department: str, received: dt.datetime) -> str:
    """Whom against, about what: the respondent's county has jurisdiction in most cases."""
    plan, rng, fields = life.plan, life.rng, life.fields
    business = plan.businesses[plan.business_pickers[province].pick(rng)]
    category = plan.categories.pick(rng)
    amount = min(round(rng.lognormvariate(5.8, 1.2), 2), 5_000_000.0)
    occurred = local_date(received) - dt.timedelta(days=rng.randint(0, 30))
    label = plan.texts[f"category:{category}"]
    online = fields["channel"] in ONLINE and category.startswith("G") and rng.random() < 0.5
    platform = rng.choice(PLATFORMS) if online else ("", "")
    fields.update(
        respondent_id=business.id,
        respondent_name=business.name,
        respondent_uscc=business.uscc,
        respondent_address=business.address,
        platform_name=platform[0],
        platform_address=platform[1],
        category=category,
        amount=f"{amount:.2f}",
        occurred_on=occurred,
        facts=f"{occurred.isoformat()}在{business.name}消费（{label}），金额{amount:.2f}元，"
        "出现质量问题，与商家协商未果。",
        demand=rng.choice(DEMANDS),
    )
    return business.county if rng.random() < 0.75 else department


def _received_times(plan: Plan, day: dt.date, count: int) -> list[dt.datetime]:
    """The day's receipt moments, sorted (the same whichever chunk asks)."""
    rng = Draws(f"day:{plan.seed}:{day.isoformat()}")
    start = dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)
    hours = rng.choices(range(24), HOUR_WEIGHTS, k=count)
    return sorted(start + dt.timedelta(hours=h, seconds=rng.randrange(3600)) for h in hours)


def _chunk_days(plan: Plan, first: int, last: int) -> Iterator[tuple[int, dt.datetime]]:
    """(case offset, receipt moment) for the offsets in [first, last)."""
    offset = 0
    for day, count in plan.day_counts:
        if offset + count > first and offset < last:
            moments = _received_times(plan, day, count)
            for i in range(max(first - offset, 0), min(last - offset, count)):
                yield offset + i, moments[i]
        offset += count
        if offset >= last:
            return


_SIMULATE = {Kind.COMPLAINT: Life.complaint, Kind.REPORT: Life.report,
             Kind.CONSULTATION: Life.consultation}  # fmt: skip


def build_chunk(plan: Plan, chunk: int) -> Rows:
    """The rows of cases [chunk*CHUNK, (chunk+1)*CHUNK): a pure function of the plan."""
    rows = Rows()
    rng = Draws(f"chunk:{plan.seed}:{chunk}")
    first, last = chunk * CHUNK, min((chunk + 1) * CHUNK, plan.cases)
    for offset, received in _chunk_days(plan, first, last):
        life = Life(plan, rng, plan.ids["case"] + offset, offset)
        _draw_case(life, received)
        life.record(
            Event(
                received,
                "submit",
                life.fields["consumer_id"] or plan.generator_id,
                life.fields["department_id"],
                "public",
                plan.texts[f"channel:{life.fields['channel']}"],
                {
                    "channel": life.fields["channel"],
                    "on_behalf": life.fields["consumer_id"] is None,
                },
            ),
            action=False,
        )
        try:  # noqa: SIM105 - cheaper than a suppress() context per case
            _SIMULATE[life.fields["kind"]](life, received)
        except _Stop:
            pass  # the next step would come after the cutoff: the case is where it stands
        life.rate()
        render(life, rows)
    return rows
