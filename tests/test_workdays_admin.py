"""The calendar admin: entering a year's notice, and the warning about years without one."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from accounts.models import User
from workdays import calendar
from workdays.calendar import add_working_days, source_for_year
from workdays.models import EnteredDay, EnteredYear

pytestmark = pytest.mark.django_db

YEARS = "admin:workdays_enteredyear_changelist"
DAYS = "admin:workdays_enteredday_changelist"
ADD_YEAR = "admin:workdays_enteredyear_add"


@pytest.fixture(autouse=True)
def fresh_calendar():
    calendar.clear_cache()
    yield
    calendar.clear_cache()


@pytest.fixture
def ada(db) -> Client:
    """Ada administers the platform."""
    client = Client()
    client.force_login(User.objects.create_superuser(username="ada", password=None))
    return client


def today_is(monkeypatch, day: date) -> None:
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: day)


def warnings_on(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]


def test_the_changelist_warns_about_this_and_next_year_without_a_notice(ada, monkeypatch):
    today_is(monkeypatch, date(2098, 6, 1))

    response = ada.get(reverse(YEARS))

    assert response.status_code == 200
    [warning] = warnings_on(response)
    assert "2098、2099" in warning


def test_the_warning_names_only_the_year_still_missing(ada, monkeypatch):
    today_is(monkeypatch, date(2098, 6, 1))
    EnteredYear.objects.create(year=2098, is_complete=True)

    [warning] = warnings_on(ada.get(reverse(DAYS)))

    assert "2099" in warning
    assert "2098" not in warning


def test_no_warning_once_both_years_are_entered(ada, monkeypatch):
    today_is(monkeypatch, date(2098, 6, 1))
    EnteredYear.objects.create(year=2098, is_complete=True)
    EnteredYear.objects.create(year=2099, is_complete=True)

    assert warnings_on(ada.get(reverse(YEARS))) == []


def test_no_warning_while_the_package_covers_both_years(ada, monkeypatch):
    today_is(monkeypatch, date(2025, 6, 1))

    assert warnings_on(ada.get(reverse(YEARS))) == []


def test_a_consumer_gets_neither_the_admin_nor_the_warning(monkeypatch):
    today_is(monkeypatch, date(2098, 6, 1))
    client = Client()
    client.force_login(User.objects.create_user(username="13800000001", real_name="张爱丽"))

    response = client.get(reverse(YEARS))

    assert response.status_code == 302
    assert warnings_on(response) == []


def year_form(year: int, days: list[tuple[str, str, bool]]) -> dict[str, object]:
    data: dict[str, object] = {
        "year": year,
        "is_complete": "on",
        "notice": "国办发明电〔2030〕1号",
        "days-TOTAL_FORMS": len(days),
        "days-INITIAL_FORMS": 0,
        "days-MIN_NUM_FORMS": 0,
        "days-MAX_NUM_FORMS": 1000,
    }
    for index, (day, name, working) in enumerate(days):
        data[f"days-{index}-date"] = day
        data[f"days-{index}-name"] = name
        if working:
            data[f"days-{index}-is_workday"] = "on"
    return data


def test_a_year_entered_with_its_days_is_used_at_once(ada):
    assert add_working_days(date(2031, 9, 30), 7) == date(2031, 10, 14)

    response = ada.post(
        reverse(ADD_YEAR),
        year_form(
            2031,
            [
                ("2031-10-06", "国庆节", False),
                ("2031-10-07", "国庆节", False),
                ("2031-09-28", "国庆节", True),
            ],
        ),
    )

    assert response.status_code == 302
    assert EnteredDay.objects.filter(entered_year__year=2031).count() == 3
    assert source_for_year(2031) == "entered"
    assert add_working_days(date(2031, 9, 30), 7) == date(2031, 10, 16)


def test_a_day_outside_the_year_is_refused_by_the_form(ada):
    response = ada.post(reverse(ADD_YEAR), year_form(2031, [("2032-01-01", "元旦", False)]))

    assert response.status_code == 200
    assert "日期须在 2031 年内。" in response.content.decode()
    assert not EnteredYear.objects.exists()


def test_the_year_list_shows_where_each_year_comes_from(ada):
    EnteredYear.objects.create(year=2031, is_complete=True)
    EnteredYear.objects.create(year=2032)

    page = ada.get(reverse(YEARS)).content.decode()

    assert "录入的放假通知" in page
    assert "法定节假日推算（缺调休）" in page
