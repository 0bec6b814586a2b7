"""Every member of the cast against every kind of case: who sees it, and who may do what.

Each row is its own success twin: the same case is visible to some and not to others, and the
same user may act on one case and not another."""

from __future__ import annotations

import pytest

from cases.access import cases_visible_to, get_case_for
from cases.models import Kind
from cases.services import perform
from cases.workflow import allowed_actions
from tests.test_workflow_factory import (  # noqa: F401 (an autouse fixture)
    O121_DAY,
    frozen,
    make_case,
)

EVERYONE = ("alice", "bob", "betty", "nora", "paul", "cathy", "ken", "helen", "sam", "nick", "hank")
WEST_LAKE_STAFF = {"nora", "paul", "cathy", "ken", "helen", "hank"}

VISIBLE = {
    "complaint": {"alice", "betty", *WEST_LAKE_STAFF},
    "station_complaint": {"alice", "betty", "sam", *WEST_LAKE_STAFF},
    "report": {"alice", *WEST_LAKE_STAFF},
    "consultation": {"alice", *WEST_LAKE_STAFF},
    # West Lake named Shangcheng competent (管辖争议): Nick must read it to agree or refuse.
    "disputed_complaint": {"alice", "betty", "nick", *WEST_LAKE_STAFF},
    "disputed_report": {"alice", "nick", *WEST_LAKE_STAFF},
}

ALLOWED_ON_SUBMITTED_COMPLAINT = {
    "alice": ["withdraw", "supplement"],
    "ken": ["accept", "reject", "transfer", "escalate", "dispute"],
    "cathy": ["supervise", "mark_major"],
    "paul": ["supervise", "mark_major"],
    "nora": ["supervise", "mark_major"],
}

# While the dispute is open West Lake's other intake steps wait; the city, the common superior,
# designates only once Shangcheng refused or the 7 working days have passed.
ALLOWED_ON_DISPUTED_COMPLAINT = {
    "alice": ["withdraw", "supplement"],
    "ken": ["withdraw_dispute"],
    "nick": ["agree", "refuse"],
    "cathy": ["supervise", "mark_major"],
    "paul": ["supervise", "mark_major"],
    "nora": ["supervise", "mark_major"],
}

ALLOWED_ON_REFUSED_DISPUTE = {
    "alice": ["withdraw", "supplement"],
    "ken": ["withdraw_dispute"],
    "cathy": ["designate", "supervise", "mark_major"],
    "paul": ["supervise", "mark_major"],
    "nora": ["supervise", "mark_major"],
}

ALLOWED_ON_STATION_COMPLAINT = {
    "alice": ["withdraw", "supplement"],
    "ken": ["start_mediation", "terminate"],
    "sam": ["start_mediation", "terminate"],
    "helen": ["supervise", "mark_major"],
    "cathy": ["supervise", "mark_major"],
    "paul": ["supervise", "mark_major"],
    "nora": ["supervise", "mark_major"],
}


@pytest.fixture
def cases(cast, tree) -> dict:
    made = {
        "complaint": make_case(department=tree.county, consumer=cast.alice, respondent=cast.shop),
        "station_complaint": make_case(
            department=tree.county, consumer=cast.alice, respondent=cast.shop
        ),
        "report": make_case(
            kind=Kind.REPORT, department=tree.county, consumer=cast.alice, respondent=cast.shop
        ),
        "consultation": make_case(
            kind=Kind.CONSULTATION, department=tree.county, consumer=cast.alice
        ),
        "disputed_complaint": make_case(
            department=tree.county, consumer=cast.alice, respondent=cast.shop
        ),
        "disputed_report": make_case(
            kind=Kind.REPORT, department=tree.county, consumer=cast.alice, respondent=cast.shop
        ),
    }
    with frozen(O121_DAY):
        made["station_complaint"] = perform(
            made["station_complaint"], "accept", by=cast.ken, handler_unit="330106001"
        )
        for label in ("disputed_complaint", "disputed_report"):
            made[label] = perform(
                made[label], "dispute", by=cast.ken, department="330102", reason="经营地在上城区"
            )
    return made


@pytest.mark.parametrize("name", EVERYONE)
def test_who_sees_which_case(name, cast, cases):
    user = getattr(cast, name)
    visible = set(cases_visible_to(user).values_list("number", flat=True))

    for label, case in cases.items():
        assert (case.number in visible) == (name in VISIBLE[label]), (name, label)


@pytest.mark.parametrize("name", EVERYONE)
def test_a_case_one_may_not_see_is_not_found(name, cast, cases):
    from django.http import Http404

    user = getattr(cast, name)
    for label, case in cases.items():
        if name in VISIBLE[label]:
            assert get_case_for(user, case.number) == case
        else:
            with pytest.raises(Http404):
                get_case_for(user, case.number)


@pytest.mark.parametrize("name", EVERYONE)
def test_who_may_do_what_on_a_submitted_complaint(name, cast, cases):
    user = getattr(cast, name)

    assert allowed_actions(cases["complaint"], user) == ALLOWED_ON_SUBMITTED_COMPLAINT.get(name, [])


@pytest.mark.parametrize("name", EVERYONE)
def test_who_may_do_what_on_a_complaint_a_station_handles(name, cast, cases):
    user = getattr(cast, name)

    assert allowed_actions(cases["station_complaint"], user) == ALLOWED_ON_STATION_COMPLAINT.get(
        name, []
    )


@pytest.mark.parametrize("name", EVERYONE)
def test_who_may_do_what_on_a_disputed_complaint(name, cast, cases):
    user = getattr(cast, name)

    with frozen(O121_DAY):  # within the 7 working days to agree
        allowed = allowed_actions(cases["disputed_complaint"], user)

    assert allowed == ALLOWED_ON_DISPUTED_COMPLAINT.get(name, [])


@pytest.mark.parametrize("name", EVERYONE)
def test_who_may_do_what_once_the_named_department_refused(name, cast, cases):
    with frozen(O121_DAY):
        refused = perform(cases["disputed_complaint"], "refuse", by=cast.nick, reason="不在本区")
        allowed = allowed_actions(refused, getattr(cast, name))

    assert allowed == ALLOWED_ON_REFUSED_DISPUTE.get(name, [])


def test_the_named_department_loses_sight_of_the_case_when_the_dispute_is_withdrawn(cast, cases):
    with frozen(O121_DAY):
        perform(cases["disputed_complaint"], "withdraw_dispute", by=cast.ken)
    visible = set(cases_visible_to(cast.nick).values_list("number", flat=True))

    assert cases["disputed_complaint"].number not in visible
    assert cases["disputed_report"].number in visible


def test_the_head_decides_a_report_the_handler_does_not(cast, cases):
    with frozen(O121_DAY):
        report = perform(cases["report"], "accept", by=cast.ken)

    assert allowed_actions(report, cast.helen) == ["extend", "decide"]
    assert allowed_actions(report, cast.ken) == ["pause"]
    assert allowed_actions(report, cast.cathy) == ["supervise", "mark_major"]
