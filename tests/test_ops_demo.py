"""seed_demo and serve's preparation: the demo a newcomer sees after `make run`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Membership, User
from cases.events import verify_case_events
from cases.models import Case, Status
from departments.models import Department, Level


@pytest.fixture
def divisions(db):
    call_command("load_divisions", stdout=StringIO())


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_prints_logins_for_every_level(divisions):
    output = seed()
    for username in ("nation_sup", "zj_sup", "hz_sup", "xihu_intake", "wenxin_handler"):
        assert username in output
    assert "Demo-12315" in output
    levels = set(Membership.objects.values_list("department__level", flat=True))
    assert levels == {Level.NATIONAL, Level.PROVINCE, Level.CITY, Level.COUNTY, Level.STATION}


def test_seed_demo_makes_cases_in_several_states_through_the_services(divisions):
    seed()
    statuses = set(Case.objects.values_list("status", flat=True))
    assert {Status.SUBMITTED, Status.MEDIATING, Status.CLOSED} <= statuses
    assert all(verify_case_events(case) is None for case in Case.objects.all())
    assert Department.objects.filter(parent_id="330106", level=Level.STATION).count() >= 2


def test_seed_demo_is_idempotent(divisions):
    seed()
    counts = (User.objects.count(), Case.objects.count(), Department.objects.count())
    seed()
    assert (User.objects.count(), Case.objects.count(), Department.objects.count()) == counts


def test_seed_demo_without_divisions_is_a_clear_error(db):
    with pytest.raises(CommandError, match="load_divisions"):
        seed()
