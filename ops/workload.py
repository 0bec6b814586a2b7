"""A national-scale workload: cases spread over the country, the year and their lifecycle.

`generate_workload` (`manage.py generate_workload --cases N --seed S`) fills the database with N
complaints, reports and consultations received over the `days` before `until`, as the platform
would hold them at midnight starting `until`: each case in the state its (simulated) handling
reached, with the events the workflow would have recorded (hash chain computed with
`cases.events.event_digest`), its clocks (open, met, cancelled; overdue and due-soon marks as the
sweep of the last day left them) and, when the supervision app is installed, the overdue orders
that sweep raised, their answers and the due-soon notices already sent.

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
import itertools
import math
import multiprocessing
import operator
import random
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, connections, transaction
from django.utils import translation

from accounts.models import Membership, User
from businesses.models import Business
from cases.categories import category_name, category_tree
from cases.events import GENESIS, event_digest
from cases.models import Case, CaseEvent, Channel, ClockKind, Deadline, Kind, Outcome, Status
from cases.numbering import format_number
from cases.rules import SHANGHAI, local_date, rules_for
from departments.models import NATIONAL_CODE, Department, Level
from ops.bench import loading
from ops.bench.loading import Row, Table
from workdays.calendar import is_workday

GENERATOR_USERNAME = "workload-generator"
STAFF_PREFIX = "wl-"
UNUSABLE_PASSWORD = "!workload"  # noqa: S105 - a "!" hash: nobody can sign in with it
CHUNK = 5000
EVENT_STRIDE = 16  # ids per case: at most 6 workflow events + 3 orders with their answers
CLOCK_STRIDE = 4  # at most 3 clocks per case, each with at most one order and one notice

# --- The shape of the country's cases ---------------------------------------------------------

# Share of cases by province (GB/T 2260 prefix), modelled on published provincial 12315 figures:
# the four largest file 45%. Normalised over the provinces present in the department tree.
PROVINCE_SHARES: dict[str, float] = {
    "44": 15.0, "33": 11.0, "32": 10.0, "37": 9.0,  # Guangdong, Zhejiang, Jiangsu, Shandong
    "11": 6.5, "31": 6.5, "41": 4.5, "51": 4.2, "42": 3.3, "35": 3.5, "13": 3.0, "43": 2.8,
    "34": 2.5, "61": 2.0, "50": 2.0, "21": 1.8, "12": 1.5, "36": 1.5, "45": 1.5, "53": 1.2,
    "14": 1.2, "23": 1.0, "22": 0.8, "52": 0.8, "15": 0.7, "65": 0.6, "62": 0.5, "46": 0.5,
    "64": 0.3, "63": 0.2, "54": 0.1,
}  # fmt: skip
KIND_SHARES = {Kind.COMPLAINT: 0.45, Kind.REPORT: 0.16, Kind.CONSULTATION: 0.39}
# Complaints and reports come online first; consultations mostly by phone.
CHANNEL_SHARES = {
    "filed": {"web": 0.34, "app": 0.33, "hotline": 0.22, "12345": 0.08, "letter": 0.01,
              "visit": 0.02},
    "asked": {"web": 0.15, "app": 0.15, "hotline": 0.60, "12345": 0.09, "visit": 0.01},
}  # fmt: skip
CATEGORY_WEIGHTS = {
    "G01": 9, "G02": 8, "G04": 5, "G05": 8, "G08": 7, "G09": 4, "G10": 5, "G15": 5, "G16": 3,
    "S01": 7, "S02": 6, "S03": 8, "S04": 5, "S05": 4, "S07": 4, "S11": 5, "S14": 4, "S25": 5,
}  # fmt: skip
OTHER_CATEGORY_WEIGHT = 1.5
# Hour of receipt (0-23): online filing peaks mid-morning and in the evening.
HOUR_WEIGHTS = (1, 1, 0.5, 0.3, 0.3, 0.5, 1, 3, 6, 9, 10, 9, 6, 7, 9, 9, 8, 7, 6, 6, 7, 7, 5, 3)
# (month, day) -> multiplier of the day's volume, with the days after it for shopping festivals.
PEAKS = {(3, 15): 3.0, (3, 14): 1.6, (3, 16): 1.6, (6, 18): 1.5, (11, 11): 1.8}
AFTER_DOUBLE_11 = 2.0  # 12-25 November: deliveries arrive, complaints follow
HOLIDAY = 1.3
WEEKEND = 0.8
ZIPF_EXPONENT = 1.07
BUSINESSES_PER_CASE = 0.05
CONSUMERS_PER_ONLINE_CASE = 0.5
PLATFORMS = (
    ("优品汇电商平台", "浙江省杭州市余杭区文一西路969号"),
    ("速购网", "北京市朝阳区建国路88号"),
    ("拼享购平台", "上海市长宁区娄山关路533号"),
    ("京选商城", "江苏省南京市建邺区江东中路222号"),
    ("抖品直播平台", "北京市海淀区知春路63号"),
    ("美食送外卖平台", "广东省深圳市南山区科技园路1号"),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉浩宇轩晨"
TRADE_WORDS = "顺达鑫源恒通华泰瑞丰金诚宏远佳美新科联创永盛天成广利兴隆合力"
INDUSTRY_WORDS = ("电器", "商贸", "通讯", "食品", "服饰", "家居", "汽车销售", "教育咨询", "网络科技",
                  "餐饮管理", "旅行社", "美容美发", "健身", "物业管理", "装饰工程", "快递")  # fmt: skip
ROADS = ("人民路", "解放路", "中山路", "建设路", "新华路", "和平路", "文化路", "胜利路", "光明路",
         "长江路", "黄河路", "朝阳路", "东风路", "青年路", "工业大道")  # fmt: skip
DEMANDS = ("退货退款", "更换商品", "赔偿损失", "退还预付款", "维修", "履行合同约定", "三倍赔偿")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
ONLINE = ("web", "app")


class WorkloadError(Exception):
    """The workload cannot be generated; nothing was written."""


# --- Calendar snapshot (workers must not touch the database) ----------------------------------


@dataclass(frozen=True)
class Workdays:
    """The working days of the years around the period, as sorted ordinals: the same answers
    as `workdays.calendar`, computed once in the main process."""

    ordinals: tuple[int, ...]

    @classmethod
    def around(cls, first: dt.date, last: dt.date) -> Workdays:
        start, end = dt.date(first.year - 1, 1, 1), dt.date(last.year + 2, 12, 31)
        days = (start + dt.timedelta(n) for n in range((end - start).days + 1))
        return cls(tuple(day.toordinal() for day in days if is_workday(day)))

    def add(self, start: dt.date, n: int) -> dt.date:
        """The nth working day after `start` (receipt day not counted); n=0: the next one."""
        if n == 0:
            return self.next(start)
        return dt.date.fromordinal(
            self.ordinals[bisect_right(self.ordinals, start.toordinal()) + n - 1]
        )

    def next(self, day: dt.date) -> dt.date:
        return dt.date.fromordinal(self.ordinals[bisect_left(self.ordinals, day.toordinal())])

    def add_calendar(self, start: dt.date, n: int) -> dt.date:
        return self.next(start + dt.timedelta(days=n))


# --- The plan: everything decided before the first case ---------------------------------------


@dataclass(frozen=True)
class Unit:
    code: str
    name: str  # province + city + county, for addresses
    parent: str | None
    stations: tuple[str, ...]


@dataclass(frozen=True)
class Picker:
    """Weighted choice by bisect over cumulative weights."""

    items: tuple[Any, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, weights: dict[Any, float]) -> Picker:
        items = tuple(item for item, weight in weights.items() if weight > 0)
        cumulative = tuple(itertools.accumulate(weights[item] for item in items))
        return cls(items, cumulative)

    def pick(self, rng: random.Random) -> Any:
        return self.items[bisect_right(self.cumulative, rng.random() * self.cumulative[-1])]


@dataclass(frozen=True)
class BusinessRow:
    id: int
    name: str
    uscc: str
    address: str
    county: str


@dataclass
class Plan:
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

    @property
    def last_day(self) -> dt.date:
        """The day the last sweep ran: the state is the one at the end of it."""
        return self.until - dt.timedelta(days=1)

    @property
    def cutoff(self) -> dt.datetime:
        return dt.datetime.combine(self.until, dt.time.min, tzinfo=SHANGHAI)


def day_weight(day: dt.date, holiday: bool) -> float:
    """Relative volume of a day: festivals, holidays, weekends."""
    weight = PEAKS.get((day.month, day.day), 1.0)
    if day.month == 11 and 12 <= day.day <= 25:
        weight = AFTER_DOUBLE_11
    if holiday:
        weight *= HOLIDAY
    elif day.weekday() >= 5:
        weight *= WEEKEND
    return weight


def spread(total: int, weights: Sequence[float]) -> list[int]:
    """`total` split in proportion to `weights` (largest remainder: the parts sum to total)."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(share) for share in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: (counts[i] - shares[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _day_counts(
    cases: int, until: dt.date, days: int, rng: random.Random
) -> list[tuple[dt.date, int]]:
    period = [until - dt.timedelta(days=n) for n in range(days, 0, -1)]
    weights = []
    for day in period:
        holiday = not is_workday(day) and day.weekday() < 5
        weights.append(day_weight(day, holiday) * rng.uniform(0.9, 1.1))
    return list(zip(period, spread(cases, weights), strict=True))


def _load_units() -> tuple[dict[str, Unit], dict[str, list[str]]]:
    """Every active unit with its ancestors' names (for addresses) and its stations, and the
    county-level codes by province."""
    rows = list(
        Department.objects.filter(is_active=True).values_list(
            "code", "name", "level", "parent_id", "is_county_level"
        )
    )
    names = {code: name for code, name, *_ in rows}
    parents = {code: parent for code, _name, _level, parent, _county in rows}
    stations: dict[str, list[str]] = {}
    by_province: dict[str, list[str]] = {}
    for code, _name, level, parent, county_level in rows:
        if level == Level.STATION and parent:
            stations.setdefault(parent, []).append(code)
        if county_level and code[:2] in PROVINCE_SHARES and code != NATIONAL_CODE:
            by_province.setdefault(code[:2], []).append(code)
    units = {}
    for code, name, _level, parent, _county in rows:
        chain, above = [name], parent
        while above and above != NATIONAL_CODE and above in names:
            chain.insert(0, names[above])
            above = parents.get(above)
        full = "".join(dict.fromkeys(chain))
        units[code] = Unit(code, full, parent, tuple(sorted(stations.get(code, ()))))
    return units, {p: sorted(codes) for p, codes in by_province.items()}


def _county_pickers(by_province: dict[str, list[str]], seed: int) -> dict[str, Picker]:
    """Counties within a province: uneven (log-normal), the capital's districts busier."""
    pickers = {}
    for province, codes in by_province.items():
        weights = {}
        for code in codes:
            rng = random.Random(f"county:{seed}:{code}")
            capital = code[2:4] == "01"
            weights[code] = rng.lognormvariate(0, 0.8) * (2.0 if capital else 1.0)
        pickers[province] = Picker.of(weights)
    return pickers


def _uscc(county: str, number: int) -> str:
    digits = []
    for _ in range(8):
        number, rest = divmod(number, len(USCC_ALPHABET))
        digits.append(USCC_ALPHABET[rest])
    return f"91{county}WL{''.join(reversed(digits))}"


def _businesses(
    plan_ids: dict[str, int], cases: int, provinces: Picker, counties: dict[str, Picker],
    units: dict[str, Unit], seed: int,
) -> tuple[list[BusinessRow], dict[str, Picker]]:  # fmt: skip
    """Operators by province in proportion to the cases there, each province's Zipf-ranked."""
    total = max(len(provinces.items) * 3, int(cases * BUSINESSES_PER_CASE))
    weights = [b - a for a, b in zip((0.0, *provinces.cumulative), provinces.cumulative)]
    per_province = spread(total, weights)
    rows: list[BusinessRow] = []
    pickers: dict[str, Picker] = {}
    rng = random.Random(f"businesses:{seed}")
    for province, count in zip(provinces.items, per_province, strict=True):
        first = len(rows)
        for rank in range(max(count, 1)):
            county = counties[province].pick(rng)
            number = plan_ids["business"] + len(rows)
            province_name = units[f"{province}0000"].name if f"{province}0000" in units else ""
            city = units[county].name[len(province_name) :][:2] or units[county].name[:2]
            name = (
                f"{city}{rng.choice(TRADE_WORDS)}{rng.choice(TRADE_WORDS)}"
                f"{rng.choice(INDUSTRY_WORDS)}有限公司"
            )
            address = f"{units[county].name}{rng.choice(ROADS)}{rank % 500 + 1}号"
            rows.append(BusinessRow(number, name, _uscc(county, number), address, county))
        ranks = range(first, len(rows))
        pickers[province] = Picker.of({i: 1 / (i - first + 1) ** ZIPF_EXPONENT for i in ranks})
    return rows, pickers


def _texts() -> dict[str, str]:
    """Labels and notes as the platform records them (Simplified Chinese)."""
    with translation.override("zh-hans"):
        texts = {f"channel:{c.value}": f"经{c.label}提交" for c in Channel}
        texts.update({f"clock:{k.value}": str(k.label) for k in ClockKind})
        texts.update({f"category:{leaf}": category_name(leaf) for leaf in _category_codes()})
    return texts


def _category_codes() -> list[str]:
    return [child["code"] for group in category_tree() for child in group["children"]]


def _categories() -> Picker:
    return Picker.of({c: CATEGORY_WEIGHTS.get(c, OTHER_CATEGORY_WEIGHT) for c in _category_codes()})


# --- One case's life ---------------------------------------------------------------------------


class _Stop(Exception):
    """The next step would happen after the moment the workload is taken."""


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


@dataclass
class Rows:
    """The rows of one chunk, per table."""

    cases: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    deadlines: list[Row] = field(default_factory=list)
    orders: list[Row] = field(default_factory=list)
    notices: list[Row] = field(default_factory=list)


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

    def staff_event(self, at: dt.datetime, action: str, unit: str, note: str = "",
                    **data: Any) -> None:  # fmt: skip
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
        self.record(Event(at, "withdraw", self.fields["consumer_id"] or self.plan.generator_id,
                          None, "public", reason, {}))  # fmt: skip
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
            self.staff_event(at, "record_agreement", handler, "双方自愿达成调解协议。",
                             amount_recovered=f"{recovered:.2f}")  # fmt: skip
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
        self.staff_event(at, "decide", handler, "经核查，作出决定。",
                         decision="filed" if filed else "not_filed")  # fmt: skip
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
        satisfaction = self.rng.choices((5, 4, 3, 2, 1), (45, 25, 12, 8, 10))[0]
        resolved = satisfaction >= 4
        self.fields.update(satisfaction=satisfaction, resolved=resolved, rated_at=at)
        self.record(Event(at, "rate", self.fields["consumer_id"], None, "public", "",
                          {"satisfaction": satisfaction, "resolved": resolved}))  # fmt: skip


# --- Rendering a life into rows ----------------------------------------------------------------


def _clock_marks(plan: Plan, clock: Clock, limit: dt.date) -> tuple[bool, bool]:
    """(due_soon, overdue) as the sweep of the last day left them."""
    if clock.cancelled_at is not None:
        return False, False
    if clock.met_at is not None:
        return False, local_date(clock.met_at) > clock.due
    overdue = clock.due < plan.last_day
    return (not overdue and clock.due < limit), overdue


def _supervision(life: Life, clock: Clock, deadline_id: int, rows: Rows) -> None:
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
        Event(raised, "supervision_order", None, superior, "internal", instructions,
              {"order": order_id, "kind": "overdue", "from": superior, "to": holder,
               "due": due.isoformat()}),
        action=False,
    )  # fmt: skip
    window = dt.datetime.combine(due, dt.time(17, 30), tzinfo=SHANGHAI) - raised
    spare = (window - dt.timedelta(hours=8)).total_seconds()
    answered_at = raised + dt.timedelta(hours=8, seconds=int(spare * rng.random()))
    answered = due < plan.last_day or (answered_at < plan.cutoff and rng.random() < 0.7)
    response, responder = "", None
    if answered:
        response, responder = "已督促承办人员加快办理，将按期反馈。", life.staff(holder)
        life.record(
            Event(answered_at, "supervision_answer", responder, holder, "internal", response,
                  {"order": order_id, "kind": "overdue"}),
            action=False,
        )  # fmt: skip
    rows.orders.append((
        order_id, life.id, deadline_id, None, "overdue", superior, holder, instructions, due,
        "answered" if answered else "open", response, responder,
        answered_at if answered else None, None, 0, raised, None, "", "",
    ))  # fmt: skip


def _render(life: Life, rows: Rows) -> None:
    plan = life.plan
    limit = plan.workdays.add(plan.last_day, 3)
    for clock in life.clocks:
        deadline_id = plan.ids["deadline"] + life.offset * CLOCK_STRIDE + clock.index
        due_soon, overdue = _clock_marks(plan, clock, limit)
        rows.deadlines.append((
            deadline_id, life.id, clock.kind, clock.department, clock.started_on, clock.due, None,
            0, clock.met_at, clock.cancelled_at is not None, due_soon, overdue, clock.created_at,
        ))  # fmt: skip
        if not plan.supervision:
            continue
        if overdue:
            _supervision(life, clock, deadline_id, rows)
        if due_soon:
            told = max(clock.created_at, plan.cutoff - dt.timedelta(hours=23, minutes=55))
            rows.notices.append((plan.ids["notice"] + life.offset * CLOCK_STRIDE + clock.index,
                                 deadline_id, clock.due, told))  # fmt: skip
    _render_events(life, rows)
    _render_case(life, rows)


def _render_events(life: Life, rows: Rows) -> None:
    number = life.fields["number"]
    previous = GENESIS
    base = life.plan.ids["event"] + life.offset * EVENT_STRIDE
    for seq, event in enumerate(sorted(life.events, key=lambda e: e.at), start=1):
        digest = event_digest(
            prev_hash=previous, case_number=number, seq=seq, at=event.at, action=event.action,
            actor_id=event.actor, department_id=event.department, visibility=event.visibility,
            note=event.note, data=event.data,
        )  # fmt: skip
        rows.events.append((
            base + seq - 1, life.id, seq, event.at, event.action, event.actor, event.department,
            event.visibility, event.note, event.data, previous, digest,
        ))  # fmt: skip
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
EVENT_COLUMNS = ("id", "case_id", "seq", "at", "action", "actor_id", "department_id", "visibility",
                 "note", "data", "prev_hash", "hash")  # fmt: skip
DEADLINE_COLUMNS = ("id", "case_id", "kind", "department_id", "started_on", "due", "paused_since",
                    "extended_days", "met_at", "cancelled", "due_soon", "overdue", "created_at")  # fmt: skip
ORDER_COLUMNS = (
    "id", "case_id", "deadline_id", "tracking_id", "kind", "from_department_id",
    "to_department_id", "instructions", "due", "status", "response", "responded_by_id",
    "responded_at", "escalated_to_id", "round", "created_at", "created_by_id", "idempotency_key",
    "request_hash",
)  # fmt: skip
NOTICE_COLUMNS = ("id", "deadline_id", "due", "created_at")
USER_COLUMNS = ("id", "password", "username", "is_active", "date_joined", "real_name", "phone",
                "is_verified", "updated_at")  # fmt: skip
BUSINESS_COLUMNS = ("id", "name", "uscc", "address", "county_id", "created_at", "updated_at")


_CASE_ROW = operator.itemgetter(*CASE_COLUMNS)


def _render_case(life: Life, rows: Rows) -> None:
    f = life.fields
    f.update(
        status=life.status, outcome=life.outcome, handler_unit_id=life.handler,
        closed_at=life.closed_at, version=life.version,
    )  # fmt: skip
    rows.cases.append(_CASE_ROW(f))


# --- Drawing a case ----------------------------------------------------------------------------


def person_name(number: int) -> str:
    mixed = (number * 2654435761) & 0xFFFFFFFF
    surname = SURNAMES[mixed % len(SURNAMES)]
    given = GIVEN[(mixed >> 8) % len(GIVEN)]
    second = GIVEN[(mixed >> 16) % len(GIVEN)] if mixed & 1 else ""
    return surname + given + second


def consumer_phone(user_id: int) -> str:
    return f"199{user_id % 100_000_000:08d}"


def _draw_case(life: Life, received: dt.datetime) -> None:
    plan, rng = life.plan, life.rng
    kind = rng.choices(tuple(KIND_SHARES), tuple(KIND_SHARES.values()))[0]
    shares = CHANNEL_SHARES["asked" if kind == Kind.CONSULTATION else "filed"]
    channel = rng.choices(tuple(shares), tuple(shares.values()))[0]
    province = plan.provinces.pick(rng)
    consumer = plan.ids["user"] + rng.randrange(plan.consumers) if channel in ONLINE else None
    party = person_name(consumer if consumer else life.id + 7)
    department = plan.counties[province].pick(rng)
    fields = life.fields
    fields.update(
        id=life.id, kind=kind, channel=channel, received_at=received, created_at=received,
        rules=rules_for(received), consumer_id=consumer, created_by_id=plan.generator_id,
        party_name=party,
        party_phone=consumer_phone(consumer) if consumer else f"13{rng.randrange(10**9):09d}",
        party_address=f"{plan.units[department].name}{rng.choice(ROADS)}{rng.randint(1, 999)}号",
        notify_me=False, answer="", amount_recovered=None, satisfaction=None, resolved=None,
        rated_at=None, respondent_id=None, respondent_name="", respondent_uscc="",
        respondent_address="", platform_name="", platform_address="", category="", amount=None,
        occurred_on=None, demand="",
    )  # fmt: skip
    if kind == Kind.CONSULTATION:
        fields["facts"] = "请问购买商品后发现质量问题，商家不予退换，应当如何维权？"
    else:
        department = _draw_dispute(life, province, department, received)
    fields["department_id"] = department
    fields["number"] = format_number(kind=kind, received_on=local_date(received), sequence=life.id)


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
        respondent_id=business.id, respondent_name=business.name, respondent_uscc=business.uscc,
        respondent_address=business.address, platform_name=platform[0],
        platform_address=platform[1], category=category, amount=f"{amount:.2f}",
        occurred_on=occurred,
        facts=f"{occurred.isoformat()}在{business.name}消费（{label}），金额{amount:.2f}元，"
        "出现质量问题，与商家协商未果。",
        demand=rng.choice(DEMANDS),
    )  # fmt: skip
    return business.county if rng.random() < 0.75 else department


def _received_times(plan: Plan, day: dt.date, count: int) -> list[dt.datetime]:
    """The day's receipt moments, sorted (the same whichever chunk asks)."""
    rng = random.Random(f"day:{plan.seed}:{day.isoformat()}")
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


def build_chunk(plan: Plan, chunk: int) -> Rows:
    """The rows of cases [chunk*CHUNK, (chunk+1)*CHUNK): a pure function of the plan."""
    rows = Rows()
    rng = random.Random(f"chunk:{plan.seed}:{chunk}")
    first, last = chunk * CHUNK, min((chunk + 1) * CHUNK, plan.cases)
    for offset, received in _chunk_days(plan, first, last):
        life = Life(plan, rng, plan.ids["case"] + offset, offset)
        _draw_case(life, received)
        life.record(
            Event(received, "submit", life.fields["consumer_id"] or plan.generator_id,
                  life.fields["department_id"], "public",
                  plan.texts[f"channel:{life.fields['channel']}"],
                  {"channel": life.fields["channel"],
                   "on_behalf": life.fields["consumer_id"] is None}),
            action=False,
        )  # fmt: skip
        simulate = {
            Kind.COMPLAINT: life.complaint,
            Kind.REPORT: life.report,
            Kind.CONSULTATION: life.consultation,
        }[life.fields["kind"]]
        try:
            simulate(received)
        except _Stop:
            pass
        life.rate()
        _render(life, rows)
    return rows


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
            orders = Table(supervision[0], ORDER_COLUMNS)
            notices = Table(supervision[1], NOTICE_COLUMNS)
        except loading.SchemaMismatch:
            orders = notices = None
    try:
        return Tables(
            cases=Table(Case, CASE_COLUMNS),
            events=Table(CaseEvent, EVENT_COLUMNS),
            deadlines=Table(Deadline, DEADLINE_COLUMNS),
            orders=orders,
            notices=notices,
            users=Table(User, USER_COLUMNS),
            businesses=Table(Business, BUSINESS_COLUMNS),
        )
    except loading.SchemaMismatch as exc:
        raise WorkloadError(f"the generator does not match the models: {exc}") from exc


# Fork workers: the plan and the tables are set before the pool starts and inherited.
_WORKER_STATE: dict[str, Any] = {}


def _worker_init() -> None:
    """In a forked worker: never use the parent's database connection (it is shared with the
    parent's transaction). Keep a reference so that it is not finalised (which would close it)."""
    for conn in connections.all(initialized_only=True):
        _WORKER_STATE.setdefault("kept", []).append(conn.connection)
        conn.connection = None


def _copy_chunk(chunk: int) -> dict[str, str]:
    plan: Plan = _WORKER_STATE["plan"]
    tables: Tables = _WORKER_STATE["tables"]
    rows = build_chunk(plan, chunk)
    return {name: table.copy_text(getattr(rows, name)) for name, table in tables.for_chunk()}


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
    first_id: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0


def _count_rows(text: str) -> int:
    return text.count("\n")


def _write_chunks(plan: Plan, tables: Tables, summary: Summary, workers: int,
                  progress: Callable[[str], None]) -> None:  # fmt: skip
    chunks = math.ceil(plan.cases / CHUNK)
    started = time.monotonic()
    if loading.is_postgresql():
        writer = loading.CopyWriter()
        _WORKER_STATE.update(plan=plan, tables=tables)
        results: Iterator[dict[str, str]]
        if workers > 1:
            pool = multiprocessing.get_context("fork").Pool(workers, initializer=_worker_init)
            results = pool.imap(_copy_chunk, range(chunks))
        else:
            pool, results = None, map(_copy_chunk, range(chunks))
        try:
            for n, texts in enumerate(results, start=1):
                for name, table in tables.for_chunk():
                    writer.write_text(table, texts[name])
                    setattr(summary, name, getattr(summary, name) + _count_rows(texts[name]))
                _progress(progress, n, chunks, plan, started)
        finally:
            if pool is not None:
                pool.terminate()
        return
    with connection.cursor() as cursor:
        inserter = loading.InsertWriter(cursor)
        for n in range(chunks):
            rows = build_chunk(plan, n)
            for name, table in tables.for_chunk():
                inserter.write_rows(table, getattr(rows, name))
                setattr(summary, name, getattr(summary, name) + len(getattr(rows, name)))
            _progress(progress, n + 1, chunks, plan, started)


def _progress(progress: Callable[[str], None], n: int, chunks: int, plan: Plan,
              started: float) -> None:  # fmt: skip
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


def _ensure_staff(units: dict[str, Unit]) -> dict[str, int]:
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
            "county" if department.is_county_level
            else "station" if department.level == Level.STATION else "above"
        )  # fmt: skip
        memberships.append(
            Membership(user_id=user_id, department=department, roles=STAFF_ROLES[level])
        )
    Membership.objects.bulk_create(memberships, batch_size=1000)
    return {names[name]: user_id for name, user_id in ids.items()}


def _people_rows(plan: Plan) -> list[Row]:
    first = plan.cutoff - dt.timedelta(days=plan.days + 400)
    rows = []
    for n in range(plan.consumers):
        user_id = plan.ids["user"] + n
        phone = consumer_phone(user_id)
        joined = first + dt.timedelta(minutes=(user_id * 7919) % (400 * 24 * 60))
        rows.append((user_id, UNUSABLE_PASSWORD, phone, True, joined, person_name(user_id), phone,
                     True, joined))  # fmt: skip
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
    units, by_province = _load_units()
    present = {p: PROVINCE_SHARES[p] for p in by_province}
    if not present:
        raise WorkloadError("no county-level departments under any province: run load_divisions")
    provinces = Picker.of(present)
    counties = _county_pickers(by_province, seed)
    ids = _first_ids()
    online = sum(shares for c, shares in CHANNEL_SHARES["filed"].items() if c in ONLINE)
    consumers = max(1, int(cases * online * CONSUMERS_PER_ONLINE_CASE))
    businesses, business_pickers = _businesses(ids, cases, provinces, counties, units, seed)
    first_day = until - dt.timedelta(days=days)
    return Plan(
        seed=seed, cases=cases, days=days, until=until, supervision=supervision, ids=ids,
        generator_id=0, staff={}, units=units, provinces=provinces, counties=counties,
        consumers=consumers, businesses=businesses, business_pickers=business_pickers,
        day_counts=_day_counts(cases, until, days, random.Random(f"days:{seed}")),
        workdays=Workdays.around(first_day, until), texts=_texts(), categories=_categories(),
    )  # fmt: skip


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
    started = time.monotonic()
    with transaction.atomic():
        summary = _generate(tables, cases, seed, days, until, workers, progress)
    summary.seconds = time.monotonic() - started
    return summary


def _generate(tables: Tables, cases: int, seed: int, days: int, until: dt.date | None,
              workers: int, progress: Callable[[str], None]) -> Summary:  # fmt: skip
    models_ = [User, Business, Case, CaseEvent, Deadline]
    if tables.orders is not None and tables.notices is not None:
        models_ += [tables.orders.model, tables.notices.model]
    loading.lock_tables(models_)
    generator = _ensure_generator()
    plan = make_plan(
        cases=cases, seed=seed, days=days, until=until or local_date(_now()),
        supervision=tables.orders is not None,
    )  # fmt: skip
    plan.generator_id = generator.pk
    plan.staff = _ensure_staff(plan.units)
    plan.ids["user"] = loading.next_id(User)
    summary = Summary(cases=0, consumers=plan.consumers, businesses=len(plan.businesses))
    if tables.orders is None:
        summary.notes.append("supervision orders skipped: the supervision models do not match")
    big = cases >= loading.row_count_estimate(Case)
    with loading.bulk_session() as triggers_off:
        if not triggers_off and loading.is_postgresql():
            summary.notes.append("foreign-key checks stayed on (not a superuser)")
        names = [m._meta.db_table for m in models_[2:]]
        with loading.deferred_indexes(names, enabled=big) as dropped:
            if dropped:
                progress(f"  building {len(dropped)} secondary indexes after the load")
            writer = _setup_writer()
            writer.write_rows(tables.users, _people_rows(plan))
            writer.write_rows(tables.businesses, _business_rows(plan))
            progress(f"  {plan.consumers:,} consumers, {len(plan.businesses):,} businesses")
            _write_chunks(plan, tables, summary, workers, progress)
    loading.finish_tables(models_)
    summary.first_id = plan.ids["case"]
    return summary


def _setup_writer() -> loading.Writer:
    if loading.is_postgresql():
        return loading.CopyWriter()
    return loading.InsertWriter(connection.cursor())


def _now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()
