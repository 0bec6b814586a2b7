"""The working-day calendar: published years, admin-entered years, the statutory fallback, the
cache, and the counting properties every deadline relies on."""

from __future__ import annotations

import time
from datetime import date, timedelta

import chinese_calendar
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from workdays import calendar
from workdays.calendar import (
    add_calendar_days,
    add_working_days,
    describe_day,
    fallback_years,
    is_workday,
    next_workday,
    source_for_year,
    working_days_between,
)
from workdays.models import EnteredDay, EnteredYear
from workdays.statutory import statutory_holidays

pytestmark = pytest.mark.django_db

PROPERTIES = settings(max_examples=150, deadline=None, database=None)
starts = st.dates(min_value=date(1995, 1, 1), max_value=date(2105, 12, 31))


@pytest.fixture(autouse=True)
def fresh_calendar():
    """Each test's database is rolled back, so no computed year may outlive it."""
    calendar.clear_cache()
    yield
    calendar.clear_cache()


def enter_year(year: int, days: dict[date, bool], *, complete: bool = True) -> EnteredYear:
    entered = EnteredYear.objects.create(year=year, is_complete=complete)
    for day, working in days.items():
        EnteredDay.objects.create(
            entered_year=entered, date=day, is_workday=working, name="调休" if working else "假日"
        )
    return entered


def days_in(start: date, end: date) -> list[date]:
    return [start + timedelta(days=k) for k in range((end - start).days + 1)]


# Published years (chinesecalendar)


def test_seven_working_days_from_the_eve_of_national_day_2026_end_on_15_october():
    assert add_working_days(date(2026, 9, 30), 7) == date(2026, 10, 15)
    assert add_working_days(start=date(2026, 9, 30), n=7) == date(2026, 10, 15)
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 15)) == 7


def test_the_make_up_saturday_after_national_day_2026_counts():
    assert date(2026, 10, 10).weekday() == 5
    assert is_workday(date(2026, 10, 10))
    assert add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)


def test_an_ordinary_weekend_does_not_count():
    friday = date(2026, 3, 6)
    assert friday.weekday() == 4
    assert not is_workday(friday + timedelta(days=1))
    assert not is_workday(friday + timedelta(days=2))
    assert add_working_days(friday, 1) == date(2026, 3, 9)


def test_spring_festival_2026_is_off_with_its_two_make_up_saturdays():
    # The notice: 15–23 February off; Saturday 14 and Saturday 28 February worked.
    assert all(not is_workday(day) for day in days_in(date(2026, 2, 15), date(2026, 2, 23)))
    assert is_workday(date(2026, 2, 14))
    assert is_workday(date(2026, 2, 28))
    assert add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)
    assert describe_day(date(2026, 2, 17)).name == "春节"


def test_published_years_agree_with_chinesecalendar_day_by_day():
    for day in days_in(date(2004, 1, 1), date(2026, 12, 31)):
        assert is_workday(day) == chinese_calendar.is_workday(day), day
    assert source_for_year(2004) == "package"
    assert source_for_year(2026) == "package"


def test_zero_working_days_is_the_start_if_working_else_the_next_working_day():
    assert add_working_days(date(2026, 10, 8), 0) == date(2026, 10, 8)
    assert add_working_days(date(2026, 10, 1), 0) == date(2026, 10, 8)
    assert next_workday(date(2026, 10, 1)) == date(2026, 10, 8)
    assert next_workday(date(2026, 10, 9)) == date(2026, 10, 9)


def test_working_days_between_counts_the_end_but_not_the_start():
    monday, friday = date(2026, 3, 2), date(2026, 3, 6)
    assert working_days_between(monday, friday) == 4
    assert working_days_between(monday, monday) == 0
    assert working_days_between(friday, monday) == 0


def test_a_calendar_day_period_ending_on_a_holiday_runs_to_the_next_working_day():
    assert add_calendar_days(date(2026, 3, 2), 3) == date(2026, 3, 5)
    # 60 days after 2 August 2026 is 1 October, in the National Day holiday.
    assert date(2026, 8, 2) + timedelta(days=60) == date(2026, 10, 1)
    assert add_calendar_days(date(2026, 8, 2), 60) == date(2026, 10, 8)


def test_a_negative_number_of_days_is_refused():
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2026, 3, 2), -1)
    with pytest.raises(ValueError, match="negative"):
        add_calendar_days(date(2026, 3, 2), -1)


# The statutory fallback


@pytest.mark.parametrize("year", [2031, 2099])
def test_a_year_nobody_published_falls_back_to_the_holidays_fixed_by_law(year):
    holidays = statutory_holidays(year)
    fixed = [
        date(year, 1, 1),
        date(year, 5, 1),
        date(year, 5, 2),
        *days_in(date(year, 10, 1), date(year, 10, 3)),
    ]
    spring = [day for day, name in holidays.items() if name == "春节"]

    assert source_for_year(year) == "fallback"
    assert all(not is_workday(day) for day in fixed)
    assert len(spring) == 4
    assert all(not is_workday(day) for day in spring)
    assert len(holidays) >= 12


def test_the_fallback_spring_festival_is_new_years_eve_and_the_first_three_days():
    # 2031: 正月初一 is Thursday 23 January, so 除夕 is 22 January.
    assert [day for day, name in statutory_holidays(2031).items() if name == "春节"] == [
        date(2031, 1, 22),
        date(2031, 1, 23),
        date(2031, 1, 24),
        date(2031, 1, 25),
    ]


def test_the_fallback_lunar_days_match_the_published_notices_under_the_2025_rules():
    for year in (2025, 2026):
        assert set(statutory_holidays(year)) <= set(chinese_calendar.holidays), year


def test_a_fallback_year_works_monday_to_friday_otherwise():
    tuesday, saturday = date(2031, 3, 4), date(2031, 3, 8)
    assert (tuesday.weekday(), saturday.weekday()) == (1, 5)
    assert is_workday(tuesday)
    assert not is_workday(saturday)


@pytest.mark.parametrize(
    "day", [date(1, 1, 1), date(1990, 6, 1), date(2100, 2, 9), date(9999, 12, 31)]
)
def test_any_date_at_all_gets_an_answer(day):
    assert is_workday(day) == (day.weekday() < 5 and day not in statutory_holidays(day.year))
    assert source_for_year(day.year) == "fallback"


def test_deadlines_cross_into_and_through_unknown_years():
    # Thu 30 Dec 2100 -> Fri 31, (Sat 1 Jan 2101 is New Year's Day), Mon 3 ... Thu 6.
    assert add_working_days(date(2100, 12, 30), 5) == date(2101, 1, 6)
    # Fri 28 Dec 1990 -> Mon 31, (Tue 1 Jan 1991 off), Wed 2, Thu 3, Fri 4.
    assert working_days_between(date(1990, 12, 28), date(1991, 1, 4)) == 4


def test_only_a_date_beyond_the_year_9999_is_an_error():
    with pytest.raises(OverflowError):
        add_working_days(date(9999, 12, 30), 10)


def test_fallback_years_lists_the_years_without_a_notice():
    assert fallback_years([2031, 2025, 2099, 2026, 2031]) == [2031, 2099]
    assert fallback_years([0, 10000]) == [0, 10000]

    enter_year(2031, {})

    assert fallback_years([2031, 2025, 2099, 2026]) == [2099]


# Admin-entered years


def test_a_complete_entered_year_replaces_the_package_for_the_whole_year():
    enter_year(2026, {date(2026, 10, 1): False})

    assert source_for_year(2026) == "entered"
    assert is_workday(date(2026, 10, 5))  # a bridge day in the package
    assert not is_workday(date(2026, 10, 10))  # a make-up Saturday in the package
    # Fri 2 Oct stays off by law; Mon 5 ... Fri 9, Mon 12, Tue 13.
    assert add_working_days(date(2026, 9, 30), 7) == date(2026, 10, 13)


def test_an_entered_year_keeps_the_holidays_fixed_by_law_unless_entered_otherwise():
    enter_year(2031, {date(2031, 10, 2): True})

    assert not is_workday(date(2031, 10, 1))
    assert not is_workday(date(2031, 5, 2))
    assert is_workday(date(2031, 10, 2))


def test_an_incomplete_entered_year_is_not_used_yet():
    enter_year(2026, {date(2026, 10, 2): True}, complete=False)

    assert source_for_year(2026) == "package"
    assert not is_workday(date(2026, 10, 2))


def test_an_entered_year_replaces_the_fallback_with_its_make_up_days():
    saturday = date(2031, 9, 27)
    assert saturday.weekday() == 5
    assert not is_workday(saturday)

    enter_year(2031, {saturday: True, date(2031, 10, 6): False})

    assert source_for_year(2031) == "entered"
    assert is_workday(saturday)
    assert not is_workday(date(2031, 10, 6))
    assert describe_day(saturday) == (saturday, True, "entered", "调休")


def test_saving_or_deleting_entered_days_takes_effect_at_once():
    entered = enter_year(2031, {})
    monday = date(2031, 3, 3)
    assert is_workday(monday)

    day = EnteredDay.objects.create(entered_year=entered, date=monday, name="假日")
    assert not is_workday(monday)

    day.delete()
    assert is_workday(monday)

    entered.is_complete = False
    entered.save()
    assert source_for_year(2031) == "fallback"


def test_a_copy_cached_inside_the_editing_transaction_is_dropped_on_commit(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        enter_year(2031, {})
        assert source_for_year(2031) == "entered"
        # A later write in the same transaction that sends no signal leaves the copy stale ...
        EnteredYear.objects.filter(year=2031).update(is_complete=False)
        assert source_for_year(2031) == "entered"

    # ... until the commit.
    assert source_for_year(2031) == "fallback"


def test_other_processes_edits_are_picked_up_after_the_revalidation_interval(monkeypatch):
    enter_year(2031, {})
    assert source_for_year(2031) == "entered"
    # Another process's save: its signals cleared only its own cache.
    EnteredYear.objects.filter(year=2031).update(is_complete=False, updated_at=timezone.now())
    assert source_for_year(2031) == "entered"

    monkeypatch.setattr(calendar, "REVALIDATE_SECONDS", 0.0)

    assert source_for_year(2031) == "fallback"


def test_a_day_filed_under_another_year_is_refused():
    entered = EnteredYear.objects.create(year=2031)
    day = EnteredDay(entered_year=entered, date=date(2032, 1, 1), name="元旦")

    with pytest.raises(ValidationError) as refused:
        day.full_clean()

    assert refused.value.message_dict["date"] == ["日期须在 2031 年内。"]
    EnteredDay(entered_year=entered, date=date(2031, 1, 1), name="元旦").full_clean()


# Speed: deadlines are computed on every submission.


def test_a_warm_calendar_answers_without_touching_the_database(django_assert_num_queries):
    add_working_days(date(2026, 9, 30), 60)
    with django_assert_num_queries(0):
        assert add_working_days(date(2026, 9, 30), 7) == date(2026, 10, 15)
        assert working_days_between(date(2026, 1, 1), date(2026, 12, 31)) > 240
        assert not is_workday(date(2026, 10, 1))


def test_sixty_working_days_take_well_under_a_millisecond():
    start = date(2026, 9, 30)
    add_working_days(start, 60)
    began = time.perf_counter()
    for _ in range(1000):
        add_working_days(start, 60)
    assert (time.perf_counter() - began) / 1000 < 0.0005


# Properties


@PROPERTIES
@given(start=starts, n=st.integers(min_value=1, max_value=120))
def test_exactly_n_working_days_lie_after_the_start_up_to_the_result(start, n):
    due = add_working_days(start, n)

    assert is_workday(due)
    assert sum(is_workday(day) for day in days_in(start + timedelta(days=1), due)) == n
    assert working_days_between(start, due) == n


@PROPERTIES
@given(start=starts, n=st.integers(min_value=0, max_value=400))
def test_the_result_is_a_working_day_and_counts_back_to_n(start, n):
    due = add_working_days(start, n)

    assert is_workday(due)
    assert due >= start
    if n == 0:
        assert all(not is_workday(day) for day in days_in(start, due - timedelta(days=1)))
    else:
        assert working_days_between(start, due) == n


@PROPERTIES
@given(
    start=starts,
    n1=st.integers(min_value=1, max_value=300),
    n2=st.integers(min_value=1, max_value=300),
)
def test_more_working_days_end_later(start, n1, n2):
    if n1 == n2:
        assert add_working_days(start, n1) == add_working_days(start, n2)
    else:
        smaller, larger = sorted((n1, n2))
        assert add_working_days(start, smaller) < add_working_days(start, larger)


@PROPERTIES
@given(start=starts, span=st.integers(min_value=-10, max_value=800))
def test_working_days_between_counts_each_working_day_once(start, span):
    end = start + timedelta(days=span)
    expected = sum(is_workday(day) for day in days_in(start + timedelta(days=1), end))

    assert working_days_between(start, end) == (expected if span > 0 else 0)


@PROPERTIES
@given(start=starts, n=st.integers(min_value=0, max_value=120))
def test_a_calendar_day_period_ends_on_the_first_working_day_from_start_plus_n(start, n):
    due = add_calendar_days(start, n)

    assert is_workday(due)
    assert all(not is_workday(day) for day in days_in(start + timedelta(days=n), due)[:-1])


@settings(max_examples=100, deadline=None, database=None)
@given(day=st.dates(max_value=date(9999, 12, 20)))
def test_no_date_raises(day):
    assert describe_day(day).is_workday == is_workday(day)
    assert is_workday(next_workday(day))
