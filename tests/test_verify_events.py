"""`manage.py verify_events`: a clean log passes; an altered or removed event names its case."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cases.models import Case, CaseEvent
from cases.services import perform
from tests.test_workflow_factory import (  # noqa: F401 (an autouse fixture)
    O121_DAY,
    frozen,
    make_case,
)


@pytest.fixture
def cases(cast, tree) -> list[Case]:
    made = [make_case(department=tree.county, consumer=cast.alice) for _ in range(3)]
    with frozen(O121_DAY):
        accepted = perform(made[1], "accept", by=cast.ken)
        perform(accepted, "start_mediation", by=cast.ken)
    return made


def run() -> tuple[str, int]:
    out = StringIO()
    try:
        call_command("verify_events", stdout=out)
    except CommandError as error:
        return out.getvalue() + str(error), error.returncode
    return out.getvalue(), 0


def test_an_intact_log_passes_with_a_count(cases):
    output, status = run()

    assert status == 0
    assert "3 case(s) checked" in output


def test_an_altered_event_fails_and_names_its_case(cases):
    CaseEvent.objects.filter(case=cases[1], seq=2).update(note="改过的说明")

    output, status = run()

    assert status == 1
    assert f"{cases[1].number}: event 2 was altered" in output
    assert cases[0].number not in output and cases[2].number not in output


def test_removing_the_newest_event_is_detected(cases):
    CaseEvent.objects.filter(case=cases[1], seq=3).delete()

    output, status = run()

    assert status == 1
    assert f"{cases[1].number}: the newest events were removed" in output


def test_removing_an_event_in_the_middle_is_detected(cases):
    CaseEvent.objects.filter(case=cases[1], seq=2).delete()

    output, status = run()

    assert status == 1
    assert f"{cases[1].number}: event 2 is missing" in output


def test_a_case_whose_every_event_was_removed_is_detected(cases):
    CaseEvent.objects.filter(case=cases[2]).delete()

    output, status = run()

    assert status == 1
    assert cases[2].number in output


def test_the_batches_cover_every_case(cases):
    from cases.management.commands.verify_events import broken_cases

    CaseEvent.objects.filter(case=cases[0]).update(action="accept")
    CaseEvent.objects.filter(case=cases[2]).update(action="accept")

    assert [number for number, _ in broken_cases(batch=1)] == [cases[0].number, cases[2].number]
