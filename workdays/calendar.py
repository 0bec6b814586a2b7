"""China's working-day calendar: which days count for statutory time limits (o121 Art. 45).

Each year comes from the first of three sources that has it:

1. ``"entered"``: an admin typed in the State Council's notice for the year and marked it
   complete (`EnteredYear.is_complete`). The entry replaces the package for the whole year; it is
   laid over the holidays fixed by law, so a statutory day left out of the entry is still off.
2. ``"package"``: the notices `chinesecalendar` ships (2004–2026 in 1.11).
3. ``"fallback"``: Monday–Friday minus the holidays fixed by law (`workdays.statutory`), with no
   bridge days or make-up workdays, so a deadline may be off by a day or two. `fallback_years`
   lets the admin be warned; no date ever raises.

Deadlines are computed on every submission, so each year is turned once into the sorted ordinals
of its working days and counting becomes a bisect. The cache is per process: the signals in
`workdays.signals` clear it when an admin edits, and every `REVALIDATE_SECONDS` it is checked
against the database so other processes (web workers, Celery) follow an edit within that time.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, datetime, timedelta
from functools import cache
from typing import Literal, NamedTuple

import chinese_calendar
from django.db.models import Count, Max

from workdays.models import EnteredDay, EnteredYear
from workdays.statutory import statutory_holidays

Source = Literal["entered", "package", "fallback"]

REVALIDATE_SECONDS = 30.0

# A year's exceptions to "Monday–Friday work, weekend off": date -> (is_workday, name).
_Overrides = dict[date, tuple[bool, str]]


class DayInfo(NamedTuple):
    day: date
    is_workday: bool
    source: Source
    name: str  # the holiday or make-up day's name; "" for an ordinary weekday or weekend


def is_workday(day: date) -> bool:
    """Whether `day` is a working day (工作日): the one test every time limit is counted by."""
    return day.toordinal() in _cache.year(day.year).workday_set


def next_workday(day: date) -> date:
    """`day` if it is a working day, else the first one after it: a period that would end on a
    holiday runs to the next working day (o121 Art. 45)."""
    return _nth_workday_after(year=day.year, after=day.toordinal() - 1, n=1)


def add_working_days(start: date, n: int) -> date:
    """The `n`th working day after `start`; the day of receipt itself is not counted (o121
    Art. 45), so a 7-working-day limit on a case received 2026-09-30 ends on 2026-10-15.

    `n` = 0 gives `start` if it is a working day, else the next one. Raises ValueError for a
    negative `n` and OverflowError past the year 9999."""
    _check_count(n)
    if n == 0:
        return next_workday(start)
    return _nth_workday_after(year=start.year, after=start.toordinal(), n=n)


def working_days_between(start: date, end: date) -> int:
    """How many working days lie in (start, end]: the working days a paused clock must give back,
    or a deadline's progress. 0 when `end` is not after `start`."""
    if end <= start:
        return 0
    total = 0
    for year in range(start.year, end.year + 1):
        days = _cache.year(year).workdays
        total += bisect_right(days, end.toordinal()) - bisect_right(days, start.toordinal())
    return total


def add_calendar_days(start: date, n: int) -> date:
    """`start` + `n` days, moved to the next working day if that is not one: a calendar-day
    period such as o121's 60-day mediation still may not end on a holiday.

    Raises ValueError for a negative `n` and OverflowError past the year 9999."""
    _check_count(n)
    return next_workday(start + timedelta(days=n))


def source_for_year(year: int) -> Source:
    """Where `year`'s working days come from, so a caller can say how sure a deadline is."""
    if not MINYEAR <= year <= MAXYEAR:
        return "fallback"
    return _cache.year(year).source


def fallback_years(years: Iterable[int]) -> list[int]:
    """The given years (e.g. this year and next) that only the statutory fallback covers: an
    admin should enter their State Council notice before deadlines land in them."""
    return sorted({year for year in years if source_for_year(year) == "fallback"})


def describe_day(day: date) -> DayInfo:
    """Everything the calendar knows about `day`, for people checking a deadline by hand."""
    found = _cache.year(day.year)
    ordinal = day.toordinal()
    return DayInfo(
        day=day,
        is_workday=ordinal in found.workday_set,
        source=found.source,
        name=found.names.get(ordinal, ""),
    )


def clear_cache() -> None:
    """Forget every computed year and the entered data; the next call reloads them."""
    _cache.clear()


def _check_count(n: int) -> None:
    if n < 0:
        raise ValueError(f"a number of days must not be negative, got {n}")


def _nth_workday_after(*, year: int, after: int, n: int) -> date:
    """The `n`th (n >= 1) working day after the day with ordinal `after`, searching from `year`."""
    days = _cache.year(year).workdays
    index = bisect_right(days, after) + n - 1
    while index >= len(days):
        index -= len(days)
        year += 1
        if year > MAXYEAR:
            raise OverflowError("the working day sought lies after the year 9999")
        days = _cache.year(year).workdays
    return date.fromordinal(days[index])


@dataclass(frozen=True)
class _Year:
    source: Source
    workdays: tuple[int, ...]  # ordinals of the working days, ascending
    workday_set: frozenset[int]
    names: dict[int, str]  # ordinal -> name of each holiday or make-up workday


class _Cache:
    """The computed years of this process. Reads take no lock; building and clearing do, so a
    clear cannot be undone by a build that read the database before it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.years: dict[int, _Year] = {}
        self.entered: dict[int, _Overrides] | None = None
        self.stamp: tuple[int, datetime | None] | None = None
        self.checked_at = 0.0

    def year(self, year: int) -> _Year:
        self.revalidate()
        found = self.years.get(year)
        if found is not None:
            return found
        with self.lock:
            found = self.years.get(year)
            if found is None:
                source, overrides = _overrides_for(year, self.entered_years())
                found = _build_year(year, source, overrides)
                self.years[year] = found
            return found

    def entered_years(self) -> dict[int, _Overrides]:
        """Called under the lock. The stamp is read first: an edit landing between the two reads
        then shows up as a changed stamp at the next check, never as a missed edit."""
        if self.entered is None:
            self.stamp = _entered_stamp()
            self.entered = _load_entered()
            self.checked_at = time.monotonic()
        return self.entered

    def revalidate(self) -> None:
        """Catch edits made by other processes, whose signals only cleared their own cache."""
        if self.entered is None or time.monotonic() - self.checked_at < REVALIDATE_SECONDS:
            return
        stamp = _entered_stamp()
        with self.lock:
            self.checked_at = time.monotonic()
            if stamp != self.stamp:
                self.clear_locked()

    def clear(self) -> None:
        with self.lock:
            self.clear_locked()

    def clear_locked(self) -> None:
        self.years.clear()
        self.entered = None
        self.stamp = None


_cache = _Cache()


def _entered_stamp() -> tuple[int, datetime | None]:
    """Changes whenever entered data does: a day's save or delete touches its year's
    `updated_at` (workdays.signals), and deleting a year lowers the count."""
    found = EnteredYear.objects.aggregate(count=Count("id"), latest=Max("updated_at"))
    return found["count"], found["latest"]


def _load_entered() -> dict[int, _Overrides]:
    entered: dict[int, _Overrides] = {
        year: {}
        for year in EnteredYear.objects.filter(is_complete=True).values_list("year", flat=True)
    }
    rows = EnteredDay.objects.filter(entered_year__is_complete=True).values_list(
        "entered_year__year", "date", "is_workday", "name"
    )
    for year, day, working, name in rows:
        # A day filed under another year is refused by the admin form; ignore any that slipped in.
        if day.year == year:
            entered[year][day] = (working, name)
    return entered


def _overrides_for(year: int, entered: dict[int, _Overrides]) -> tuple[Source, _Overrides]:
    """The precedence: an entered year, then the package, then the statutory fallback."""
    if year in entered:
        # The days fixed by law stay off even if the admin left one out; an entered day has the
        # last word.
        return "entered", {**_statutory_overrides(year), **entered[year]}
    if year in _package_years():
        return "package", _package_overrides().get(year, {})
    return "fallback", _statutory_overrides(year)


def _statutory_overrides(year: int) -> _Overrides:
    return {day: (False, name) for day, name in statutory_holidays(year).items()}


def _build_year(year: int, source: Source, overrides: _Overrides) -> _Year:
    first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
    workdays = []
    for ordinal in range(first, last + 1):
        day = date.fromordinal(ordinal)
        working, _name = overrides.get(day, (day.weekday() < 5, ""))
        if working:
            workdays.append(ordinal)
    return _Year(
        source=source,
        workdays=tuple(workdays),
        workday_set=frozenset(workdays),
        names={day.toordinal(): name for day, (_working, name) in overrides.items()},
    )


@cache
def _package_years() -> range:
    """The package covers every year between its first and last notice, as it says itself."""
    known = [*chinese_calendar.holidays, *chinese_calendar.workdays]
    return range(min(known).year, max(known).year + 1)


@cache
def _package_overrides() -> dict[int, _Overrides]:
    chinese = {holiday.value: holiday.chinese for holiday in chinese_calendar.Holiday}
    by_year: dict[int, _Overrides] = {}
    for day, name in chinese_calendar.holidays.items():
        by_year.setdefault(day.year, {})[day] = (False, chinese.get(name, name))
    # A make-up workday wins over a holiday on the same date, as in the package's own is_workday.
    for day, name in chinese_calendar.workdays.items():
        by_year.setdefault(day.year, {})[day] = (True, chinese.get(name, name))
    return by_year
