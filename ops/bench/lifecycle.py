"""One case's life, simulated from receipt to the moment the workload is taken; `ops.bench.rows`
renders what it leaves behind.

`build_chunk(plan, n)` is a pure function of the plan (no database access: it runs in worker
processes), so the workload is the same whichever process builds which chunk.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cases.models import ClockKind, Kind, Outcome, Status
from cases.numbering import SEQUENCE_DIGITS, format_number
from cases.rules import SHANGHAI, rules_for
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
from ops.bench.digests import json_string
from ops.bench.rows import Clock, Event, Rows, render

CHUNK = 5000
# The choices as plain strings: an enum member costs ~0.2 us a lookup and formats slowly, and the
# rows hold the same text either way.
COMPLAINT, REPORT, CONSULTATION = map(str, (Kind.COMPLAINT, Kind.REPORT, Kind.CONSULTATION))
SUBMITTED, ACCEPTED, MEDIATING, VERIFYING, CLOSED = map(
    str, (Status.SUBMITTED, Status.ACCEPTED, Status.MEDIATING, Status.VERIFYING, Status.CLOSED)
)
ACCEPT, MEDIATE, VERIFY, ANSWER, NOTIFY_TERMINATION, NOTIFY_DECISION = map(
    str,
    (
        ClockKind.ACCEPT, ClockKind.MEDIATE, ClockKind.VERIFY, ClockKind.ANSWER,
        ClockKind.NOTIFY_TERMINATION, ClockKind.NOTIFY_DECISION,
    ),
)  # fmt: skip
REJECTED, WITHDRAWN, MEDIATED, TERMINATED, REFERRED, CASE_FILED, NOT_FILED, ANSWERED = map(
    str,
    (
        Outcome.REJECTED, Outcome.WITHDRAWN, Outcome.MEDIATED, Outcome.TERMINATED,
        Outcome.REFERRED, Outcome.CASE_FILED, Outcome.NOT_FILED, Outcome.ANSWERED,
    ),
)  # fmt: skip
NOT_RATED = (REJECTED, ANSWERED, WITHDRAWN)
KINDS = Picker.of({str(kind): share for kind, share in KIND_SHARES.items()})
CHANNELS = {name: Picker.of(shares) for name, shares in CHANNEL_SHARES.items()}
SATISFACTION = Picker.of({5: 45, 4: 25, 3: 12, 2: 8, 1: 10})
NO_DATA = "{}"
# Multiplying a timedelta is cheaper than building one from keyword arguments.
SECOND, MINUTE = dt.timedelta(seconds=1), dt.timedelta(minutes=1)


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
    """Simulates one case from receipt to the cutoff and renders its rows. Every moment here is
    built in Asia/Shanghai (`SHANGHAI`), so a moment's local date is its `date()`."""

    def __init__(self, plan: Plan, rng: Draws, case_id: int, offset: int) -> None:
        self.plan, self.rng, self.id, self.offset = plan, rng, case_id, offset
        self.wd = plan.workdays
        self.events: list[Event] = []
        self.clocks: list[Clock] = []
        self.fields: dict[str, Any] = {}
        self.status, self.outcome = SUBMITTED, ""
        self.handler: str | None = None
        self.version = 1
        self.closed_at: dt.datetime | None = None

    # -- moments --

    def work_time(self, day: dt.date) -> dt.datetime:
        return midnight(day) + SECOND * (8 * 3600 + 1800 + self.rng.below(9 * 3600))

    def after(self, moment: dt.datetime, working_days: int) -> dt.datetime:
        """A working-hours moment `working_days` after `moment`, strictly later; _Stop past the
        cutoff."""
        day = moment.date()
        target = self.wd.add(day, working_days) if working_days else day
        later = self.work_time(target)
        if later <= moment:
            later = moment + MINUTE * self.rng.randint(10, 240)
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

    def meet(self, at: dt.datetime, kind: str) -> None:
        for clock in self.clocks:
            if clock.met_at is None and clock.cancelled_at is None and clock.kind == kind:
                clock.met_at = at

    def close(self, at: dt.datetime, outcome: str) -> None:
        for clock in self.clocks:
            if clock.met_at is None and clock.cancelled_at is None:
                clock.cancelled_at = at
        self.status, self.outcome, self.closed_at = CLOSED, outcome, at

    @property
    def holder(self) -> str:
        return self.handler or self.fields["department_id"]

    def staff_event(
        self, at: dt.datetime, action: str, unit: str, note: str = "", data: str = NO_DATA
    ) -> None:
        """An officer's action; `data` as the JSON text `digests.json_text` writes (sorted keys,
        compact), written out below per action."""
        self.events.append((at, action, self.plan.staff[unit], unit, "public", note, data))
        self.version += 1

    def accept(self, at: dt.datetime) -> str:
        department = self.fields["department_id"]
        stations = self.plan.units[department].stations
        self.handler = (
            self.rng.choice(stations) if stations and self.rng.random() < 0.4 else department
        )
        handler = json_string(self.handler)
        data = f'{{"accepted_by":{json_string(department)},"handler_unit":{handler}}}'
        self.staff_event(at, "accept", department, "", data)
        self.meet(at, ACCEPT)
        self.status = ACCEPTED
        return self.handler

    def withdraw(self, at: dt.datetime) -> None:
        reason = self.rng.choice(("", "已与商家协商解决", "不再需要处理"))
        actor = self.fields["consumer_id"] or self.plan.generator_id
        self.record((at, "withdraw", actor, None, "public", reason, NO_DATA))
        self.close(at, WITHDRAWN)

    def reject(self, at: dt.datetime) -> None:
        ground = self.rng.choice(("out_of_scope", "already_handled", "not_consumer", "time_barred"))
        unit = self.fields["department_id"]
        self.staff_event(at, "reject", unit, "经审查，不符合受理条件。", _ground(ground))
        self.meet(at, ACCEPT)
        self.close(at, REJECTED)

    def notice_clock(self, kind: str, at: dt.datetime, working_days: int) -> None:
        """A clock met once the notice is delivered (seconds to minutes after the decision)."""
        day = at.date()
        clock = self.start(kind, self.holder, day, self.wd.add(day, working_days), at)
        delivered = at + MINUTE * self.rng.randint(1, 30)
        if delivered < self.plan.cutoff:
            clock.met_at = delivered

    # -- kinds --

    def complaint(self, received: dt.datetime) -> None:
        day, rng, fields = received.date(), self.rng, self.fields
        self.start(ACCEPT, fields["department_id"], day, self.wd.add(day, 7), received)
        at = self.after(received, self.decision_delay())
        roll = rng.random()
        if roll < 0.12:
            return self.reject(at)
        if roll < 0.16 and fields["consumer_id"]:
            return self.withdraw(at)
        handler = self.accept(at)
        accepted = at.date()
        due = (
            self.wd.add(accepted, 45)
            if fields["rules"] == "o20"
            else self.wd.add_calendar(accepted, 60)
        )
        self.start(MEDIATE, handler, accepted, due, at)
        at = self.after(at, rng.randint(1, 5))
        roll = rng.random()
        if roll < 0.08:
            return self.terminate(at, "absent_or_refused")
        self.staff_event(at, "start_mediation", handler)
        self.status = MEDIATING
        roll = rng.random()
        if roll < 0.62:
            at = self.after(at, min(int(rng.expovariate(1 / 12)) + 2, 55))
            amount = fields["amount"] or 0
            recovered = f"{round(float(amount) * rng.uniform(0.3, 1.0), 2):.2f}"
            fields["amount_recovered"] = recovered
            data = f'{{"amount_recovered":{json_string(recovered)}}}'
            self.staff_event(at, "record_agreement", handler, "双方自愿达成调解协议。", data)
            self.meet(at, MEDIATE)
            return self.close(at, MEDIATED)
        if roll < 0.92:
            return self.terminate(self.after(at, rng.randint(5, 50)), "no_agreement_possible")
        at = self.after(at, rng.randint(2, 20))
        if fields["consumer_id"]:
            return self.withdraw(at)
        return self.terminate(at, "withdrawn_or_settled")

    def terminate(self, at: dt.datetime, ground: str) -> None:
        note = "调解未能达成协议，终止调解。"
        self.staff_event(at, "terminate", self.holder, note, _ground(ground))
        self.meet(at, MEDIATE)
        self.close(at, TERMINATED)
        self.notice_clock(NOTIFY_TERMINATION, at, 7)

    def report(self, received: dt.datetime) -> None:
        day, rng, fields = received.date(), self.rng, self.fields
        fields["notify_me"] = rng.random() < 0.4
        self.start(ACCEPT, fields["department_id"], day, self.wd.add(day, 7), received)
        at = self.after(received, self.decision_delay())
        roll = rng.random()
        if roll < 0.10:
            unit = fields["department_id"]
            self.staff_event(at, "refer_out", unit, "请向有关主管部门反映。", _REFERRED_TO)
            self.meet(at, ACCEPT)
            return self.close(at, REFERRED)
        handler = self.accept(at)
        self.status = VERIFYING
        self.start(VERIFY, handler, day, self.wd.add(day, 15), at)
        days = rng.choice((6, 8, 9, 10, 11, 12, 12, 13, 14, 14, 15, 15, 17, 20))
        at = self.after(at, max(days - self.wd_between(day, at.date()), 1))
        filed = rng.random() < 0.25
        data = _FILED if filed else _NOT_FILED
        self.staff_event(at, "decide", handler, "经核查，作出决定。", data)
        self.meet(at, VERIFY)
        self.close(at, CASE_FILED if filed else NOT_FILED)
        if fields["notify_me"]:
            self.notice_clock(NOTIFY_DECISION, at, 5)
        return None

    def consultation(self, received: dt.datetime) -> None:
        day, fields = received.date(), self.fields
        self.start(ANSWER, fields["department_id"], day, self.wd.add(day, 7), received)
        at = self.after(received, self.decision_delay())
        if self.rng.random() < 0.03 and fields["consumer_id"]:
            return self.withdraw(at)
        answer = "已按相关法律法规作出答复，如有争议可依法投诉。"
        fields["answer"] = answer
        self.staff_event(at, "answer", fields["department_id"], answer)
        self.meet(at, ANSWER)
        return self.close(at, ANSWERED)

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
        consumer = self.fields["consumer_id"]
        if self.status != CLOSED or not consumer or self.rng.random() > 0.45:
            return
        if self.outcome in NOT_RATED:
            return
        assert self.closed_at is not None
        try:
            at = self.after(self.closed_at, self.rng.randint(0, 5))
        except _Stop:
            return
        satisfaction = SATISFACTION.pick(self.rng)
        resolved = satisfaction >= 4
        self.fields.update(satisfaction=satisfaction, resolved=resolved, rated_at=at)
        data = f'{{"resolved":{"true" if resolved else "false"},"satisfaction":{satisfaction:d}}}'
        self.record((at, "rate", consumer, None, "public", "", data))


def _ground(ground: str) -> str:
    return f'{{"ground":{json_string(ground)}}}'


_REFERRED_TO = f'{{"authority":{json_string("住房和城乡建设部门")}}}'
_FILED, _NOT_FILED = '{"decision":"filed"}', '{"decision":"not_filed"}'
_MIDNIGHTS: dict[dt.date, dt.datetime] = {}


def midnight(day: dt.date) -> dt.datetime:
    """The start of `day` in Asia/Shanghai (memoised: `combine` costs ~0.3 us)."""
    moment = _MIDNIGHTS.get(day)
    if moment is None:
        moment = _MIDNIGHTS[day] = dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)
    return moment


# --- Drawing a case ----------------------------------------------------------------------------

_CONSULTATION_FACTS = "请问购买商品后发现质量问题，商家不予退换，应当如何维权？"


def _draw_case(life: Life, received: dt.datetime) -> None:
    plan, rng = life.plan, life.rng
    kind = KINDS.pick(rng)
    channel = CHANNELS["asked" if kind == CONSULTATION else "filed"].pick(rng)
    province = plan.provinces.pick(rng)
    consumer = plan.ids["user"] + rng.below(plan.consumers) if channel in ONLINE else None
    party = person_name(consumer if consumer else life.id + 7)
    department = plan.counties[province].pick(rng)
    phone = consumer_phone(consumer) if consumer else f"13{rng.below(10**9):09d}"
    address = f"{plan.units[department].name}{rng.choice(ROADS)}{rng.randint(1, 999)}号"
    fields = life.fields = {
        "id": life.id,
        "kind": kind,
        "channel": channel,
        "received_at": received,
        "created_at": received,
        "rules": rules_for(received),
        "consumer_id": consumer,
        "created_by_id": plan.generator_id,
        "party_name": party,
        "party_phone": phone,
        "party_address": address,
        "notify_me": False,
        "answer": "",
        "amount_recovered": None,
        "satisfaction": None,
        "resolved": None,
        "rated_at": None,
        "respondent_id": None,
        "respondent_name": "",
        "respondent_uscc": "",
        "respondent_address": "",
        "platform_name": "",
        "platform_address": "",
        "category": "",
        "amount": None,
        "occurred_on": None,
        "demand": "",
    }
    if kind == CONSULTATION:
        fields["facts"] = _CONSULTATION_FACTS
    else:
        department = _draw_dispute(life, province, department, received)
    fields["department_id"] = department
    fields["number"] = case_number(kind, received.date(), life.id)


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
    occurred = received.date() - dt.timedelta(days=rng.randint(0, 30))
    label = plan.texts[f"category:{category}"]
    online = fields["channel"] in ONLINE and category.startswith("G") and rng.random() < 0.5
    platform = rng.choice(PLATFORMS) if online else ("", "")
    amount_text = f"{amount:.2f}"
    fields.update(
        respondent_id=business.id,
        respondent_name=business.name,
        respondent_uscc=business.uscc,
        respondent_address=business.address,
        platform_name=platform[0],
        platform_address=platform[1],
        category=category,
        amount=amount_text,
        occurred_on=occurred,
        facts=f"{occurred.isoformat()}在{business.name}消费（{label}），金额{amount_text}元，"
        "出现质量问题，与商家协商未果。",
        demand=rng.choice(DEMANDS),
    )
    return business.county if rng.random() < 0.75 else department


def _received_times(plan: Plan, day: dt.date, count: int) -> list[dt.datetime]:
    """The day's receipt moments, sorted (the same whichever chunk asks)."""
    rng = Draws(f"day:{plan.seed}:{day.isoformat()}")
    start = midnight(day)
    hours = rng.choices(range(24), HOUR_WEIGHTS, k=count)
    seconds = sorted([h * 3600 + rng.below(3600) for h in hours])
    return [start + SECOND * s for s in seconds]


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


_SIMULATE = {COMPLAINT: Life.complaint, REPORT: Life.report, CONSULTATION: Life.consultation}


def build_chunk(plan: Plan, chunk: int) -> Rows:
    """The rows of cases [chunk*CHUNK, (chunk+1)*CHUNK): a pure function of the plan."""
    rows = Rows()
    rng = Draws(f"chunk:{plan.seed}:{chunk}")
    first, last = chunk * CHUNK, min((chunk + 1) * CHUNK, plan.cases)
    first_id, generator, texts = plan.ids["case"], plan.generator_id, plan.texts
    for offset, received in _chunk_days(plan, first, last):
        life = Life(plan, rng, first_id + offset, offset)
        _draw_case(life, received)
        fields = life.fields
        channel, consumer = fields["channel"], fields["consumer_id"]
        data = _submit_data(channel, consumer is None)
        note = texts[f"channel:{channel}"]
        life.events.append(
            (
                received,
                "submit",
                consumer or generator,
                fields["department_id"],
                "public",
                note,
                data,
            )
        )
        try:  # noqa: SIM105 - cheaper than a suppress() context per case
            _SIMULATE[fields["kind"]](life, received)
        except _Stop:
            pass  # the next step would come after the cutoff: the case is where it stands
        life.rate()
        render(life, rows)
    return rows


_SUBMIT_DATA: dict[tuple[str, bool], str] = {}


def _submit_data(channel: str, on_behalf: bool) -> str:
    data = _SUBMIT_DATA.get((channel, on_behalf))
    if data is None:
        flag = "true" if on_behalf else "false"
        data = _SUBMIT_DATA[channel, on_behalf] = (
            f'{{"channel":{json_string(channel)},"on_behalf":{flag}}}'
        )
    return data
