"""Live monitoring figures for a department's subtree and for each child unit (API.md "stats").

Cases are taken from the subtree by materialised path and grouped by the child unit whose path
segment follows the department's own (the case's holding unit: its handling unit once accepted,
else its department). Cases held by the department itself form the group "" and count in the
total only. `overview` reads these groups from the exact rollups (`supervision.rollups`, a few
hundred rows); `overview_direct` counts them with grouped queries over the cases, the reference
the rollups are tested and audited against.

Definitions (a period is [from, to], Asia/Shanghai dates, both included):
- received: cases received in the period, by kind (and by channel and day for the charts);
- open: cases not closed now, by status; overdue / due_soon: open cases now with at least one
  open clock marked overdue / due soon by the sweep;
- on_time_rate: of the clocks (not cancelled) due in the period that were met or went overdue,
  the share met on or before the due date;
- mediation_success_rate: mediated / (mediated + terminated) among cases closed in the period;
- satisfaction: mean rating (1-5) of the ratings given in the period;
- amount_recovered: money recovered by the cases closed in the period.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest, StrIndex, Substr, TruncDate
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from cases.models import Case, Channel, Deadline, Kind, Outcome, Status
from cases.rules import SHANGHAI, parse_day
from departments.models import Department
from supervision import rollups
from supervision.models import Rollup
from supervision.rollups import OPEN_STATUSES, ZERO

MAX_YEARS = 3
DEFAULT_DAYS = 30


class InvalidPeriod(ValueError):
    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__(_("统计区间无效。"))
        self.fields = fields


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # included

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[start 00:00, the day after end 00:00) in Asia/Shanghai."""
        first = dt.datetime.combine(self.start, dt.time.min, tzinfo=SHANGHAI)
        after = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=SHANGHAI)
        return first, after

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days + 1)]


# The days a period may name: it reaches three years before `to` (30 days before it by default)
# and a day past it, which Python's calendar cannot do near year 1 or 9999.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(9999, 12, 30)


def _parse(value: str | None, name: str, errors: dict[str, list[str]]) -> dt.date | None:
    if value in (None, ""):
        return None
    day = parse_day(value)
    if day is None:
        errors[name] = [_("日期格式应为 YYYY-MM-DD。")]
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        errors[name] = [
            _("日期应在 %(first)s 至 %(last)s 之间。")
            % {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()}
        ]
        return None
    return day


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def parse_period(*, start: str | None, end: str | None, today: dt.date) -> Period:
    """From/to query values to a period: the last 30 days by default; reversed or longer than
    three years is refused (InvalidPeriod)."""
    errors: dict[str, list[str]] = {}
    first, last = _parse(start, "from", errors), _parse(end, "to", errors)
    if errors:
        raise InvalidPeriod(errors)
    last = last or (today if first is None else max(first, today))
    first = first or last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise InvalidPeriod({"from": [_("开始日期不能晚于结束日期。")]})
    if first < _years_before(last, MAX_YEARS):
        raise InvalidPeriod({"to": [_("统计区间不能超过 %(n)d 年。") % {"n": MAX_YEARS}]})
    return Period(first, last)


@dataclass
class Figures:
    """The counts of one unit (or of a whole subtree); rates are derived from the counts."""

    received: dict[str, int] = field(default_factory=lambda: dict.fromkeys(Kind.values, 0))
    open: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OPEN_STATUSES, 0))
    overdue: int = 0
    due_soon: int = 0
    clocks_decided: int = 0
    clocks_on_time: int = 0
    mediated: int = 0
    terminated: int = 0
    ratings: int = 0
    rating_sum: int = 0
    amount_recovered: Decimal = ZERO

    @property
    def received_total(self) -> int:
        return sum(self.received.values())

    @property
    def open_total(self) -> int:
        return sum(self.open.values())

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.clocks_on_time, self.clocks_decided, 4)

    @property
    def mediation_success_rate(self) -> float | None:
        return _ratio(self.mediated, self.mediated + self.terminated, 4)

    @property
    def satisfaction(self) -> float | None:
        return _ratio(self.rating_sum, self.ratings, 2)

    def add(self, other: Figures) -> None:
        for kind, n in other.received.items():
            self.received[kind] = self.received.get(kind, 0) + n
        for status, n in other.open.items():
            self.open[status] = self.open.get(status, 0) + n
        for name in _SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": dict(self.received),
            "open": dict(self.open),
            "overdue": self.overdue,
            "due_soon": self.due_soon,
            "on_time_rate": self.on_time_rate,
            "mediation_success_rate": self.mediation_success_rate,
            "satisfaction": self.satisfaction,
            "amount_recovered": f"{self.amount_recovered:.2f}",
        }


_SUMMED = (
    "overdue",
    "due_soon",
    "clocks_decided",
    "clocks_on_time",
    "mediated",
    "terminated",
    "ratings",
    "rating_sum",
    "amount_recovered",
)


def _ratio(numerator: int, denominator: int, places: int) -> float | None:
    return round(numerator / denominator, places) if denominator else None


@dataclass
class Overview:
    department: Department
    period: Period
    total: Figures
    children: list[tuple[Department, Figures]]
    by_channel: dict[str, int]
    by_day: list[tuple[dt.date, int]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "department": self.department.code,
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            **self.total.as_dict(),
            "received_by_channel": self.by_channel,
            "received_by_day": [{"date": d.isoformat(), "count": n} for d, n in self.by_day],
            "by_child": [
                {"department": {"code": child.code, "name": child.name}, **figures.as_dict()}
                for child, figures in self.children
            ],
        }


# --- Queries ----------------------------------------------------------------------------------


def _holder_path(prefix: str = "") -> Coalesce:
    return Coalesce(f"{prefix}handler_unit__path", f"{prefix}department__path")


def _child_of(department: Department, prefix: str = "") -> Substr:
    """The code of the child unit under which the case is held ("" when held by `department`)."""
    rest = Substr(_holder_path(prefix), len(department.path) + 1)
    return Substr(rest, 1, Greatest(StrIndex(rest, Value("/")) - 1, Value(0)))


def _under(department: Department, prefix: str = "") -> Q:
    """Held within the subtree (its department or its handling unit is: the handling unit is
    always the department or below it)."""
    path = department.path
    return Q(**{f"{prefix}department__path__startswith": path}) | Q(
        **{f"{prefix}handler_unit__path__startswith": path}
    )


def cases_under(department: Department) -> QuerySet[Case]:
    return Case.objects.filter(_under(department))


# The populations behind each figure. The dashboard lists the cases of the same querysets it
# counts, so a number and the list behind it cannot disagree.


def received_cases(department: Department, period: Period) -> QuerySet[Case]:
    first, after = period.bounds()
    return cases_under(department).filter(received_at__gte=first, received_at__lt=after)


def open_cases(department: Department) -> QuerySet[Case]:
    return cases_under(department).filter(status__in=OPEN_STATUSES)


def closed_cases(department: Department, period: Period) -> QuerySet[Case]:
    first, after = period.bounds()
    return cases_under(department).filter(
        status=Status.CLOSED, closed_at__gte=first, closed_at__lt=after
    )


def rated_cases(department: Department, period: Period) -> QuerySet[Case]:
    first, after = period.bounds()
    return cases_under(department).filter(
        satisfaction__isnull=False, rated_at__gte=first, rated_at__lt=after
    )


def flagged_clocks(department: Department) -> QuerySet[Deadline]:
    """Open clocks of open cases marked overdue or due soon."""
    return (
        Deadline.objects.filter(_under(department, "case__"))
        .filter(met_at__isnull=True, cancelled=False, case__status__in=OPEN_STATUSES)
        .filter(Q(overdue=True) | Q(due_soon=True))
    )


def decided_clocks(department: Department, period: Period) -> QuerySet[Deadline]:
    """Clocks due in the period that were met or went overdue, with `on_time` annotated."""
    return (
        Deadline.objects.filter(_under(department, "case__"))
        .filter(cancelled=False, due__gte=period.start, due__lte=period.end)
        .filter(Q(met_at__isnull=False) | Q(overdue=True))
        .annotate(met_on=TruncDate("met_at", tzinfo=SHANGHAI))
    )


ON_TIME = Q(met_at__isnull=False, met_on__lte=F("due"))


def _grouped(rows: QuerySet, department: Department, prefix: str = "") -> QuerySet:
    return rows.annotate(child=_child_of(department, prefix)).order_by()


def _fill_received(figures: dict[str, Figures], department: Department, period: Period) -> None:
    rows = (
        _grouped(received_cases(department, period), department)
        .values("child", "kind")
        .annotate(n=Count("id"))
    )
    for row in rows:
        figures[row["child"]].received[row["kind"]] = row["n"]


def _fill_open(figures: dict[str, Figures], department: Department) -> None:
    rows = (
        _grouped(open_cases(department), department)
        .values("child", "status")
        .annotate(n=Count("id"))
    )
    for row in rows:
        figures[row["child"]].open[row["status"]] = row["n"]


def _fill_flags(figures: dict[str, Figures], department: Department) -> None:
    rows = (
        _grouped(flagged_clocks(department), department, "case__")
        .values("child")
        .annotate(
            overdue=Count("case", distinct=True, filter=Q(overdue=True)),
            due_soon=Count("case", distinct=True, filter=Q(due_soon=True)),
        )
    )
    for row in rows:
        figures[row["child"]].overdue = row["overdue"]
        figures[row["child"]].due_soon = row["due_soon"]


def _fill_clocks(figures: dict[str, Figures], department: Department, period: Period) -> None:
    rows = (
        _grouped(decided_clocks(department, period), department, "case__")
        .values("child")
        .annotate(decided=Count("id"), on_time=Count("id", filter=ON_TIME))
    )
    for row in rows:
        figures[row["child"]].clocks_decided = row["decided"]
        figures[row["child"]].clocks_on_time = row["on_time"]


def _fill_closed(figures: dict[str, Figures], department: Department, period: Period) -> None:
    rows = (
        _grouped(closed_cases(department, period), department)
        .values("child")
        .annotate(
            mediated=Count("id", filter=Q(outcome=Outcome.MEDIATED)),
            terminated=Count("id", filter=Q(outcome=Outcome.TERMINATED)),
            recovered=Sum("amount_recovered"),
        )
    )
    for row in rows:
        target = figures[row["child"]]
        target.mediated, target.terminated = row["mediated"], row["terminated"]
        target.amount_recovered = (row["recovered"] or ZERO).quantize(ZERO)


def _fill_ratings(figures: dict[str, Figures], department: Department, period: Period) -> None:
    rows = (
        _grouped(rated_cases(department, period), department)
        .values("child")
        .annotate(n=Count("id"), total=Sum("satisfaction"))
    )
    for row in rows:
        figures[row["child"]].ratings = row["n"]
        figures[row["child"]].rating_sum = row["total"]


def _by_channel(department: Department, period: Period) -> dict[str, int]:
    counts = dict.fromkeys(Channel.values, 0)
    rows = received_cases(department, period).values("channel").annotate(n=Count("id"))
    counts.update({row["channel"]: row["n"] for row in rows})
    return counts


def _by_day(department: Department, period: Period) -> list[tuple[dt.date, int]]:
    rows = (
        received_cases(department, period)
        .order_by()
        .annotate(day=TruncDate("received_at", tzinfo=SHANGHAI))
        .values("day")
        .annotate(n=Count("id"))
    )
    counts = {row["day"]: row["n"] for row in rows}
    return [(day, counts.get(day, 0)) for day in period.days()]


def _children(department: Department, keys: Iterable[str]) -> list[Department]:
    """The child units shown: the active ones, and any inactive one still holding cases."""
    with_data = set(keys) - {""}
    return list(
        Department.objects.filter(parent=department)
        .filter(Q(is_active=True) | Q(code__in=with_data))
        .order_by("code")
    )


def overview(*, department: Department, period: Period) -> Overview:
    """The figures of `department`'s subtree over `period`, in total and per child unit, from the
    rollups (`supervision.rollups`), the "now" figures (open, overdue, due soon) included."""
    figures: dict[str, Figures] = defaultdict(Figures)
    by_channel = dict.fromkeys(Channel.values, 0)
    for row in _rollup_rows(department, period):
        _add_rollup(figures[row["child"]], by_channel, row)
    return _overview(department, period, figures, by_channel, _rollup_by_day(department, period))


def _in_period(department: Department, period: Period) -> QuerySet[Rollup]:
    return Rollup.objects.filter(unit=department).filter(
        Q(metric__in=rollups.PERIOD_METRICS, day__gte=period.start, day__lte=period.end)
        | Q(metric__in=(rollups.OPEN, rollups.FLAGGED), day=rollups.NOW)
    )


def _rollup_rows(department: Department, period: Period) -> Iterable[dict[str, Any]]:
    rows = (
        _in_period(department, period)
        .order_by()
        .values("child", "metric", "key")
        .annotate(count=Sum("n"), total=Sum("amount"))
    )
    # A cell counted down to zero is no figure (a child unit appears only with cases).
    return (row for row in rows if row["count"])


def _add_rollup(target: Figures, by_channel: dict[str, int], row: dict[str, Any]) -> None:
    metric, key, n, amount = row["metric"], row["key"], row["count"], row["total"]
    if metric == rollups.RECEIVED:
        kind, channel = key.split("/")
        target.received[kind] = target.received.get(kind, 0) + n
        by_channel[channel] = by_channel.get(channel, 0) + n
    elif metric == rollups.OPEN:
        target.open[key] = target.open.get(key, 0) + n
    elif metric == rollups.CLOSED:
        target.mediated += n if key == Outcome.MEDIATED else 0
        target.terminated += n if key == Outcome.TERMINATED else 0
        target.amount_recovered = (target.amount_recovered + amount).quantize(ZERO)
    elif metric == rollups.RATED:
        target.ratings += n
        target.rating_sum += int(amount)
    elif metric == rollups.CLOCK:
        target.clocks_decided += n
        target.clocks_on_time += int(amount)
    elif metric == rollups.FLAGGED:
        if key == rollups.OVERDUE_FLAG:
            target.overdue += n
        else:
            target.due_soon += n


def _rollup_by_day(department: Department, period: Period) -> list[tuple[dt.date, int]]:
    rows = (
        _in_period(department, period)
        .filter(metric=rollups.RECEIVED)
        .order_by()
        .values("day")
        .annotate(count=Sum("n"))
    )
    counts = {row["day"]: row["count"] for row in rows}
    return [(day, counts.get(day, 0)) for day in period.days()]


def _overview(
    department: Department,
    period: Period,
    figures: dict[str, Figures],
    by_channel: dict[str, int],
    by_day: list[tuple[dt.date, int]],
) -> Overview:
    total = Figures()
    for unit in figures.values():
        total.add(unit)
    children = _children(department, figures)
    return Overview(
        department=department,
        period=period,
        total=total,
        children=[(child, figures.get(child.code) or Figures()) for child in children],
        by_channel=by_channel,
        by_day=by_day,
    )


def overview_direct(*, department: Department, period: Period) -> Overview:
    """`overview` counted straight from the cases and clocks: the reference the rollups are
    tested and audited against (about 3 s at national level at 1M cases)."""
    figures: dict[str, Figures] = defaultdict(Figures)
    _fill_received(figures, department, period)
    _fill_open(figures, department)
    _fill_flags(figures, department)
    _fill_clocks(figures, department, period)
    _fill_closed(figures, department, period)
    _fill_ratings(figures, department, period)
    return _overview(
        department,
        period,
        figures,
        _by_channel(department, period),
        _by_day(department, period),
    )


def overdue_cases(department: Department, *, limit: int = 50) -> QuerySet[Case]:
    """Open cases of the subtree with an overdue running clock, the longest overdue first."""
    overdue = Deadline.objects.filter(
        case=OuterRef("pk"), met_at__isnull=True, cancelled=False, overdue=True
    )
    return (
        cases_under(department)
        .filter(status__in=OPEN_STATUSES)
        .filter(Exists(overdue))
        .annotate(overdue_since=Subquery(overdue.order_by("due").values("due")[:1]))
        .select_related("department", "handler_unit")
        .order_by("overdue_since", "number")[:limit]
    )


# --- The cases behind a number ----------------------------------------------------------------


class Metric(StrEnum):
    RECEIVED = "received"  # value: a kind, or "" for all
    CHANNEL = "channel"  # value: a channel
    DAY = "day"  # value: a date in the period
    OPEN = "open"  # value: a status, or "" for all open
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    LATE = "late"  # a clock due in the period was not met on time
    MEDIATED = "mediated"
    TERMINATED = "terminated"
    RATED = "rated"
    RECOVERED = "recovered"


METRIC_LABELS = {
    Metric.RECEIVED: _lazy("登记"),
    Metric.CHANNEL: _lazy("按渠道登记"),
    Metric.DAY: _lazy("当日登记"),
    Metric.OPEN: _lazy("在办"),
    Metric.OVERDUE: _lazy("已超期"),
    Metric.DUE_SOON: _lazy("即将到期"),
    Metric.LATE: _lazy("未按期办结"),
    Metric.MEDIATED: _lazy("调解成功"),
    Metric.TERMINATED: _lazy("终止调解"),
    Metric.RATED: _lazy("已评价"),
    Metric.RECOVERED: _lazy("挽回经济损失"),
}


class UnknownMetric(ValueError):
    pass


def _choice(value: str, choices: list[str]) -> str:
    if value and value not in choices:
        raise UnknownMetric(value)
    return value


def _received_behind(department: Department, period: Period, value: str) -> QuerySet[Case]:
    kind = _choice(value, Kind.values)
    rows = received_cases(department, period)
    return rows.filter(kind=kind) if kind else rows


def _channel_behind(department: Department, period: Period, value: str) -> QuerySet[Case]:
    if value not in Channel.values:
        raise UnknownMetric(value)
    return received_cases(department, period).filter(channel=value)


def _day_behind(department: Department, period: Period, value: str) -> QuerySet[Case]:
    day = parse_day(value)
    if day is None:
        raise UnknownMetric(value)
    if not period.start <= day <= period.end:
        raise UnknownMetric(value)
    return received_cases(department, Period(day, day))


def _open_behind(department: Department, period: Period, value: str) -> QuerySet[Case]:
    status = _choice(value, list(OPEN_STATUSES))
    rows = open_cases(department)
    return rows.filter(status=status) if status else rows


def _with_clock(department: Department, clocks: QuerySet[Deadline]) -> QuerySet[Case]:
    return cases_under(department).filter(pk__in=clocks.values("case_id"))


def _overdue_behind(department: Department, period: Period, value: str) -> QuerySet[Case]:
    return _with_clock(department, flagged_clocks(department).filter(overdue=True))


def _due_soon_behind(department: Department, period: Period, value: str) -> QuerySet[Case]:
    return _with_clock(department, flagged_clocks(department).filter(due_soon=True))


def _late_behind(department: Department, period: Period, value: str) -> QuerySet[Case]:
    return _with_clock(department, decided_clocks(department, period).exclude(ON_TIME))


def _mediated_behind(department: Department, period: Period, value: str) -> QuerySet[Case]:
    return closed_cases(department, period).filter(outcome=Outcome.MEDIATED)


def _terminated_behind(department: Department, period: Period, value: str) -> QuerySet[Case]:
    return closed_cases(department, period).filter(outcome=Outcome.TERMINATED)


def _rated_behind(department: Department, period: Period, value: str) -> QuerySet[Case]:
    return rated_cases(department, period)


def _recovered_behind(department: Department, period: Period, value: str) -> QuerySet[Case]:
    return closed_cases(department, period).filter(amount_recovered__gt=0)


_BEHIND: dict[Metric, Callable[[Department, Period, str], QuerySet[Case]]] = {
    Metric.RECEIVED: _received_behind,
    Metric.CHANNEL: _channel_behind,
    Metric.DAY: _day_behind,
    Metric.OPEN: _open_behind,
    Metric.OVERDUE: _overdue_behind,
    Metric.DUE_SOON: _due_soon_behind,
    Metric.LATE: _late_behind,
    Metric.MEDIATED: _mediated_behind,
    Metric.TERMINATED: _terminated_behind,
    Metric.RATED: _rated_behind,
    Metric.RECOVERED: _recovered_behind,
}


def cases_behind(
    *, department: Department, period: Period, metric: str, value: str = ""
) -> QuerySet[Case]:
    """The cases a dashboard number counts (UnknownMetric for a metric or value that is none)."""
    try:
        chosen = Metric(metric)
    except ValueError as exc:
        raise UnknownMetric(metric) from exc
    return _BEHIND[chosen](department, period, value)
