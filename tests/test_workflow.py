"""The workflow table applied by `perform`: each action's effect, grounds per regulation version,
deadlines, stations, the consumer's own actions and the hash chain."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from cases.events import verify_case_events
from cases.models import Attachment, Case, ClockKind, Deadline, Kind, Outcome, Rules, Status
from cases.services import InvalidAction, InvalidParams, StaleVersion, perform
from cases.workflow import (
    REJECTION_GROUND_LABELS,
    RULESETS,
    TABLES,
    TERMINATION_GROUND_LABELS,
    action_spec,
    allowed_actions,
)
from tests.test_workflow_factory import (  # noqa: F401 (an autouse fixture)
    O20_DAY,
    O121_DAY,
    at,
    frozen,
    make_case,
)

WEDNESDAY = dt.date(2026, 6, 3)  # two days after O121_DAY's receipt


def act(case: Case, action: str, by, on: dt.date = WEDNESDAY, **params: Any) -> Case:
    with frozen(at(on)):
        return perform(case, action, by=by, **params)


def clock(case: Case, kind: str) -> Deadline:
    return Deadline.objects.filter(case=case, kind=kind).order_by("-id").first()


@pytest.fixture
def complaint(cast, tree) -> Case:
    return make_case(department=tree.county, consumer=cast.alice, respondent=cast.shop)


@pytest.fixture
def report(cast, tree) -> Case:
    return make_case(kind=Kind.REPORT, department=tree.county, consumer=cast.alice, notify_me=True)


@pytest.fixture
def consultation(cast, tree) -> Case:
    return make_case(kind=Kind.CONSULTATION, department=tree.county, consumer=cast.alice)


# --- Each action's effect, table-driven --------------------------------------------------------

REJECT = {"ground": "out_of_scope", "reason": "属于金融监管部门职责"}
ACCEPTED = [("accept", "ken", {})]
MEDIATING = [*ACCEPTED, ("start_mediation", "ken", {})]
VERIFYING = [("accept", "ken", {})]


@dataclass
class Scenario:
    kind: str
    before: list[tuple[str, str, dict[str, Any]]]
    action: str
    actor: str
    params: dict[str, Any]
    status: str
    outcome: str = ""
    visibility: str = "public"
    clocks: dict[str, tuple[str, dt.date | None]] = field(default_factory=dict)


def _open(due: dt.date | None = None) -> tuple[str, dt.date | None]:
    return ("open", due)


SCENARIOS = {
    "accept a complaint": Scenario(
        Kind.COMPLAINT,
        [],
        "accept",
        "ken",
        {},
        Status.ACCEPTED,
        clocks={"accept": ("met", None), "mediate": _open(dt.date(2026, 8, 3))},
    ),
    "reject a complaint": Scenario(
        Kind.COMPLAINT,
        [],
        "reject",
        "ken",
        REJECT,
        Status.CLOSED,
        Outcome.REJECTED,
        clocks={"accept": ("met", None)},
    ),
    "transfer a complaint": Scenario(
        Kind.COMPLAINT,
        [],
        "transfer",
        "ken",
        {"department": "330102", "reason": "经营者住所在上城区"},
        Status.SUBMITTED,
        visibility="internal",
        clocks={"accept": _open(dt.date(2026, 6, 12))},
    ),
    "escalate a complaint": Scenario(
        Kind.COMPLAINT,
        [],
        "escalate",
        "ken",
        {"reason": "管辖争议"},
        Status.SUBMITTED,
        visibility="internal",
        clocks={"accept": _open(dt.date(2026, 6, 12))},
    ),
    "dispatch an escalated complaint": Scenario(
        Kind.COMPLAINT,
        [("escalate", "ken", {"reason": "管辖争议"})],
        "dispatch",
        "cathy",
        {"department": "330106"},
        Status.SUBMITTED,
        visibility="internal",
        clocks={"accept": _open(dt.date(2026, 6, 12))},
    ),
    "start mediation": Scenario(
        Kind.COMPLAINT, ACCEPTED, "start_mediation", "ken", {"note": "双方同意"}, Status.MEDIATING
    ),
    "record an agreement": Scenario(
        Kind.COMPLAINT,
        MEDIATING,
        "record_agreement",
        "ken",
        {"terms": "退货退款", "amount_recovered": "199.00"},
        Status.CLOSED,
        Outcome.MEDIATED,
        clocks={"mediate": ("met", None)},
    ),
    "terminate mediation": Scenario(
        Kind.COMPLAINT,
        MEDIATING,
        "terminate",
        "ken",
        {"ground": "no_agreement_possible", "note": "被投诉人拒绝退款"},
        Status.CLOSED,
        Outcome.TERMINATED,
        clocks={"mediate": ("met", None), "notify_termination": _open(dt.date(2026, 6, 12))},
    ),
    "terminate before mediation": Scenario(
        Kind.COMPLAINT,
        ACCEPTED,
        "terminate",
        "ken",
        {"ground": "absent_or_refused", "note": "被投诉人拒绝调解"},
        Status.CLOSED,
        Outcome.TERMINATED,
    ),
    "refer a clue": Scenario(
        Kind.COMPLAINT,
        MEDIATING,
        "refer_clue",
        "ken",
        {"note": "涉嫌销售不合格产品"},
        Status.MEDIATING,
        visibility="internal",
        clocks={"mediate": _open(dt.date(2026, 8, 3))},  # the clue's clock: on a linked report
    ),
    "withdraw a complaint": Scenario(
        Kind.COMPLAINT,
        ACCEPTED,
        "withdraw",
        "alice",
        {"reason": "已与商家和解"},
        Status.CLOSED,
        Outcome.WITHDRAWN,
        clocks={"mediate": ("cancelled", None)},
    ),
    "supervise": Scenario(
        Kind.COMPLAINT,
        [],
        "supervise",
        "cathy",
        {"instructions": "请按期受理"},
        Status.SUBMITTED,
        visibility="internal",
    ),
    "accept a report": Scenario(
        Kind.REPORT,
        [],
        "accept",
        "ken",
        {},
        Status.VERIFYING,
        clocks={"accept": ("met", None), "verify": _open(dt.date(2026, 6, 23))},
    ),
    "refer a report out": Scenario(
        Kind.REPORT,
        [],
        "refer_out",
        "ken",
        {"authority": "当地税务部门", "note": "涉税问题"},
        Status.CLOSED,
        Outcome.REFERRED,
        clocks={"accept": ("met", None)},
    ),
    "extend verification": Scenario(
        Kind.REPORT,
        VERIFYING,
        "extend",
        "helen",
        {"reason": "需调取平台数据"},
        Status.VERIFYING,
        clocks={"verify": _open(dt.date(2026, 7, 14))},
    ),
    "decide to file": Scenario(
        Kind.REPORT,
        VERIFYING,
        "decide",
        "helen",
        {"decision": "filed", "note": "违法事实清楚"},
        Status.CLOSED,
        Outcome.CASE_FILED,
        clocks={"verify": ("met", None), "notify_decision": _open(dt.date(2026, 6, 10))},
    ),
    "decide not to file": Scenario(
        Kind.REPORT,
        VERIFYING,
        "decide",
        "helen",
        {"decision": "not_filed", "note": "证据不足"},
        Status.CLOSED,
        Outcome.NOT_FILED,
    ),
    "answer a consultation": Scenario(
        Kind.CONSULTATION,
        [],
        "answer",
        "ken",
        {"answer": "七日无理由退货适用于网购商品。"},
        Status.CLOSED,
        Outcome.ANSWERED,
        clocks={"answer": ("met", None)},
    ),
}


def _clock_state(deadline: Deadline) -> str:
    if deadline.met_at:
        return "met"
    return "cancelled" if deadline.cancelled else "open"


@pytest.mark.parametrize("name", SCENARIOS)
def test_each_action_has_the_effect_the_table_says(name, cast, tree):
    scenario = SCENARIOS[name]
    case = make_case(
        kind=scenario.kind, department=tree.county, consumer=cast.alice, notify_me=True
    )
    for action, actor, params in scenario.before:
        case = act(case, action, getattr(cast, actor), **params)
    version = case.version

    case = act(case, scenario.action, getattr(cast, scenario.actor), **scenario.params)

    case.refresh_from_db()
    assert (case.status, case.outcome) == (scenario.status, scenario.outcome)
    assert case.version == version + 1
    assert (case.closed_at is not None) == (scenario.status == Status.CLOSED)
    event = case.events.order_by("-seq").first()
    assert (event.action, event.visibility) == (scenario.action, scenario.visibility)
    for kind, (state, due) in scenario.clocks.items():
        deadline = clock(case, kind)
        assert _clock_state(deadline) == state, kind
        assert due is None or deadline.due == due, kind
    if case.status == Status.CLOSED:
        assert not Deadline.objects.filter(case=case, met_at=None, cancelled=False).exclude(
            kind__in=[ClockKind.NOTIFY_TERMINATION, ClockKind.NOTIFY_DECISION]
        )


def test_the_table_reaches_only_known_states():
    for kind, table in TABLES.items():
        for spec in table:
            assert set(spec.sources) <= set(Status.values), (kind, spec.name)
            assert spec.result is None or spec.result in Status.values
            assert spec.outcome is None or spec.outcome in Outcome.values


def test_a_transfer_moves_the_case_and_the_accept_clock_to_the_new_department(
    complaint, cast, tree
):
    case = act(complaint, "transfer", cast.ken, department="330102", reason="经营者在上城区")

    assert case.department == tree.neighbour
    old, new = Deadline.objects.filter(case=case, kind=ClockKind.ACCEPT).order_by("id")
    assert old.cancelled and old.department == tree.county
    assert new.is_open and new.department == tree.neighbour and new.started_on == WEDNESDAY
    assert allowed_actions(case, cast.ken) == []
    assert "accept" in allowed_actions(case, cast.nick)


def test_a_complaint_cannot_be_accepted_above_county_level_but_can_be_dispatched(complaint, cast):
    case = act(complaint, "escalate", cast.ken, reason="管辖争议")

    assert "accept" not in allowed_actions(case, cast.cathy)
    assert "dispatch" in allowed_actions(case, cast.cathy)
    with pytest.raises(InvalidParams) as raised:
        act(case, "dispatch", cast.cathy, department="330000")
    assert "department" in raised.value.fields


def test_the_national_level_cannot_escalate(cast, tree):
    case = make_case(department=tree.national, consumer=cast.alice)
    cast.nora.memberships.update(roles=["intake", "supervisor"])

    assert "escalate" not in allowed_actions(case, cast.nora)
    assert "dispatch" in allowed_actions(case, cast.nora)


def test_a_transfer_must_go_to_another_county_level_unit(complaint, cast):
    for target in ("330106", "330106001", "330100", "999999"):
        with pytest.raises(InvalidParams) as raised:
            act(complaint, "transfer", cast.ken, department=target, reason="x")
        assert "department" in raised.value.fields


# --- Grounds per regulation version ----------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "ground"),
    [(rules, ground) for rules in Rules.values for ground in REJECTION_GROUND_LABELS],
)
def test_every_rejection_ground_is_accepted_only_where_its_rules_list_it(rules, ground, cast, tree):
    received = O20_DAY if rules == Rules.O20 else O121_DAY
    case = make_case(department=tree.county, consumer=cast.alice, received_at=received)
    assert case.rules == rules
    day = received.date() + dt.timedelta(days=1)

    if ground in RULESETS[rules].rejection_grounds:
        case = act(case, "reject", cast.ken, on=day, ground=ground, reason="见告知书")
        assert (case.status, case.outcome) == (Status.CLOSED, Outcome.REJECTED)
        assert case.events.last().data == {"ground": ground}
    else:
        with pytest.raises(InvalidParams) as raised:
            act(case, "reject", cast.ken, on=day, ground=ground, reason="见告知书")
        assert list(raised.value.fields) == ["ground"]
        assert raised.value.choices == list(RULESETS[rules].rejection_grounds)
        assert Case.objects.get(pk=case.pk).status == Status.SUBMITTED


def test_order_121_adds_identity_and_order_20_does_not():
    assert set(RULESETS[Rules.O121].rejection_grounds) - set(
        RULESETS[Rules.O20].rejection_grounds
    ) == {"identity"}
    assert set(RULESETS[Rules.O121].termination_grounds) - set(
        RULESETS[Rules.O20].termination_grounds
    ) == {"party_ceased"}
    assert (RULESETS[Rules.O20].max_representatives, RULESETS[Rules.O121].max_representatives) == (
        5,
        2,
    )


@pytest.mark.parametrize(
    ("rules", "ground"),
    [(rules, ground) for rules in Rules.values for ground in TERMINATION_GROUND_LABELS],
)
def test_every_termination_ground_per_rules(rules, ground, cast, tree):
    received = O20_DAY if rules == Rules.O20 else O121_DAY
    day = received.date() + dt.timedelta(days=2)
    case = make_case(department=tree.county, consumer=cast.alice, received_at=received)
    case = act(case, "accept", cast.ken, on=day)

    if ground in RULESETS[rules].termination_grounds:
        if ground == "time_limit":  # only once the mediation's time is up
            day = Deadline.objects.get(case=case, kind=ClockKind.MEDIATE).due
        case = act(case, "terminate", cast.ken, on=day, ground=ground, note="见告知书")
        assert case.outcome == Outcome.TERMINATED
    else:
        with pytest.raises(InvalidParams):
            act(case, "terminate", cast.ken, on=day, ground=ground, note="见告知书")


# --- Deadlines --------------------------------------------------------------------------------


def test_mediation_runs_45_working_days_under_order_20_and_60_days_under_order_121(cast, tree):
    old = make_case(department=tree.county, consumer=cast.alice, received_at=O20_DAY)
    new = make_case(department=tree.county, consumer=cast.alice, received_at=O121_DAY)

    act(old, "accept", cast.ken, on=dt.date(2026, 3, 4))
    act(new, "accept", cast.ken, on=dt.date(2026, 6, 3))

    # 45 working days from 4 March pass Qingming and May Day; 60 days from 3 June end on a
    # Sunday (2 August), so the limit runs to Monday.
    assert clock(old, ClockKind.MEDIATE).due == dt.date(2026, 5, 11)
    assert clock(new, ClockKind.MEDIATE).due == dt.date(2026, 8, 3)


def test_pausing_for_testing_moves_the_due_date_by_the_working_days_paused(complaint, cast):
    case = act(complaint, "accept", cast.ken)
    case = act(case, "start_mediation", cast.ken)

    case = act(case, "pause", cast.ken, on=dt.date(2026, 6, 8), reason="送检")
    assert case.paused_since == dt.date(2026, 6, 8)
    assert allowed_actions(case, cast.ken).count("pause") == 0
    case = act(case, "resume", cast.ken, on=dt.date(2026, 6, 15))

    # 9-15 June: five working days (the Dragon Boat Festival is on the 19th).
    assert clock(case, ClockKind.MEDIATE).due == dt.date(2026, 8, 10)
    assert case.paused_since is None
    assert "resume" not in allowed_actions(case, cast.ken)


def test_a_report_pauses_its_verify_clock_and_extends_it_once_with_the_head(report, cast):
    case = act(report, "accept", cast.ken)
    case = act(case, "pause", cast.ken, on=dt.date(2026, 6, 8), reason="检测")
    case = act(case, "resume", cast.ken, on=dt.date(2026, 6, 10))
    assert clock(case, ClockKind.VERIFY).due == dt.date(2026, 6, 25)

    assert "extend" not in allowed_actions(case, cast.ken)
    case = act(case, "extend", cast.helen, reason="案情复杂")

    assert clock(case, ClockKind.VERIFY).due == dt.date(2026, 7, 16)
    assert "extend" not in allowed_actions(case, cast.helen)
    with pytest.raises(InvalidAction):
        act(case, "extend", cast.helen, reason="再次延长")


def test_no_decision_notice_clock_when_the_reporter_did_not_ask(cast, tree):
    case = make_case(kind=Kind.REPORT, department=tree.county, consumer=cast.alice)
    case = act(case, "accept", cast.ken)

    case = act(case, "decide", cast.helen, decision="filed", note="立案")

    assert clock(case, ClockKind.NOTIFY_DECISION) is None


# --- Stations ---------------------------------------------------------------------------------


def test_a_station_mediates_a_case_the_county_diverted_to_it(complaint, cast, tree):
    assert "accept" not in allowed_actions(complaint, cast.sam)
    case = act(complaint, "accept", cast.ken, handler_unit="330106001")
    assert case.handler_unit == tree.station
    assert clock(case, ClockKind.MEDIATE).department == tree.station

    case = act(case, "start_mediation", cast.sam, note="双方同意调解")

    assert case.status == Status.MEDIATING
    event = case.events.last()
    assert event.department == tree.station
    assert event.department.county_bureau == tree.county


def test_the_consumer_timeline_names_the_county_bureau_and_hides_the_diversion(
    complaint, cast, tree
):
    from cases.presenters import case_payload

    case = act(complaint, "accept", cast.ken, handler_unit="330106001")
    case = act(case, "start_mediation", cast.sam)

    seen_by_alice = case_payload(Case.objects.get(pk=case.pk), cast.alice)
    seen_by_ken = case_payload(Case.objects.get(pk=case.pk), cast.ken)

    accept, mediation = seen_by_alice["timeline"][1:]
    assert accept["department"] == mediation["department"] == tree.county.bureau_name
    assert "handler_unit" not in accept["data"]
    assert "文新" not in str(seen_by_alice)
    assert seen_by_ken["timeline"][1]["data"]["handler_unit"] == "330106001"


def test_a_station_cannot_act_on_a_case_the_county_handles_itself(complaint, cast):
    case = act(complaint, "accept", cast.ken)

    with pytest.raises(InvalidAction):
        act(case, "start_mediation", cast.sam)
    assert "start_mediation" in allowed_actions(case, cast.ken)


def test_a_case_cannot_be_diverted_to_another_countys_station(complaint, cast):
    with pytest.raises(InvalidParams) as raised:
        act(complaint, "accept", cast.ken, handler_unit="330102001")
    assert "handler_unit" in raised.value.fields


# --- The consumer's own actions ----------------------------------------------------------------


def test_withdrawing_closes_the_case_and_cancels_its_clocks(complaint, cast):
    case = act(complaint, "withdraw", cast.alice)

    assert (case.status, case.outcome) == (Status.CLOSED, Outcome.WITHDRAWN)
    assert clock(case, ClockKind.ACCEPT).cancelled
    assert allowed_actions(case, cast.alice) == ["rate"]
    assert allowed_actions(case, cast.ken) == []


def test_only_the_consumer_withdraws(complaint, cast):
    for someone in (cast.bob, cast.ken, cast.betty):
        with pytest.raises(InvalidAction):
            act(complaint, "withdraw", someone)


def test_supplementing_appends_facts_and_links_the_consumers_uploads(complaint, cast):
    mine = _upload(cast.alice)
    bobs = _upload(cast.bob)

    case = act(
        complaint, "supplement", cast.alice, facts="商家已拒绝维修。", attachments=[str(mine.pk)]
    )

    assert case.facts.startswith("购买的电饭煲")
    assert case.facts.endswith("—— 补充 2026-06-03 ——\n商家已拒绝维修。")
    assert Attachment.objects.get(pk=mine.pk).case == case
    with pytest.raises(InvalidParams) as raised:
        act(case, "supplement", cast.alice, attachments=[str(bobs.pk)])
    assert "attachments" in raised.value.fields
    with pytest.raises(InvalidParams):
        act(case, "supplement", cast.alice)


def _upload(owner) -> Attachment:
    return Attachment.objects.create(
        owner=owner,
        name="photo.jpg",
        size=10,
        content_type="image/jpeg",
        sha256="0" * 64,
        file="evidence/test.jpg",
        created_at=O121_DAY,
    )


def test_a_closed_case_is_rated_once(complaint, cast):
    with pytest.raises(InvalidAction):
        act(complaint, "rate", cast.alice, satisfaction=5, resolved=True)
    case = act(complaint, "withdraw", cast.alice)

    case = act(case, "rate", cast.alice, satisfaction=4, resolved=True, comment="处理及时")

    assert (case.satisfaction, case.resolved, case.rating_comment) == (4, True, "处理及时")
    assert allowed_actions(case, cast.alice) == []
    with pytest.raises(InvalidAction) as raised:
        act(case, "rate", cast.alice, satisfaction=1, resolved=False)
    assert raised.value.allowed_actions == []


@pytest.mark.parametrize(
    "params",
    [
        {"satisfaction": 6, "resolved": True},
        {"satisfaction": True, "resolved": True},
        {"satisfaction": 3, "resolved": "yes"},
        {"resolved": True},
    ],
)
def test_a_rating_needs_a_score_from_1_to_5_and_a_yes_or_no(params, complaint, cast):
    case = act(complaint, "withdraw", cast.alice)
    with pytest.raises(InvalidParams):
        act(case, "rate", cast.alice, **params)


# --- Parameters, versions, guards --------------------------------------------------------------


def test_an_unknown_action_lists_the_kinds_actions(complaint, cast):
    with pytest.raises(InvalidParams) as raised:
        act(complaint, "decide", cast.helen, decision="filed", note="x")
    assert raised.value.fields == {"action": ["此类案件没有该操作。"]}
    assert raised.value.choices == [spec.name for spec in TABLES[Kind.COMPLAINT]]


def test_unknown_and_missing_parameters_are_named(complaint, cast):
    with pytest.raises(InvalidParams) as raised:
        act(complaint, "reject", cast.ken, grounds="out_of_scope")
    assert set(raised.value.fields) == {"grounds", "ground", "reason"}


@pytest.mark.parametrize("amount", ["-1", "abc", "1.234", True, "NaN"])
def test_the_amount_recovered_is_money(amount, complaint, cast):
    case = act(complaint, "accept", cast.ken)
    case = act(case, "start_mediation", cast.ken)
    with pytest.raises(InvalidParams) as raised:
        act(case, "record_agreement", cast.ken, terms="退款", amount_recovered=amount)
    assert "amount_recovered" in raised.value.fields


def test_an_agreement_records_the_amount(complaint, cast):
    case = act(complaint, "accept", cast.ken)
    case = act(case, "start_mediation", cast.ken)
    case = act(case, "record_agreement", cast.ken, terms="退款", amount_recovered=199)
    assert case.amount_recovered == Decimal("199.00")


def test_a_stale_version_is_refused_with_what_may_be_done_now(complaint, cast):
    version = complaint.version
    act(complaint, "accept", cast.ken, version=version)

    with pytest.raises(StaleVersion) as raised:
        act(complaint, "reject", cast.ken, version=version, **REJECT)
    assert "start_mediation" in raised.value.allowed_actions
    assert Case.objects.get(pk=complaint.pk).status == Status.ACCEPTED


def test_an_action_in_the_wrong_state_is_refused_with_the_allowed_ones(complaint, cast):
    with pytest.raises(InvalidAction) as raised:
        act(complaint, "start_mediation", cast.ken)
    assert raised.value.allowed_actions == allowed_actions(complaint, cast.ken)
    assert "accept" in raised.value.allowed_actions


def test_supervisors_above_mark_a_case_major_once_and_their_steps_are_internal(complaint, cast):
    assert "mark_major" not in allowed_actions(complaint, cast.helen)  # the county holds it
    case = act(complaint, "mark_major", cast.nora)

    assert case.is_major
    assert case.events.last().visibility == "internal"
    assert "mark_major" not in allowed_actions(case, cast.paul)


def test_mark_duplicate_needs_another_visible_report(report, cast, tree):
    first = make_case(kind=Kind.REPORT, department=tree.county, consumer=cast.alice)
    elsewhere = make_case(kind=Kind.REPORT, department=tree.neighbour, consumer=cast.bob)

    for number in (report.number, elsewhere.number, "J000"):
        with pytest.raises(InvalidParams):
            act(report, "mark_duplicate", cast.ken, of=number)
    case = act(report, "mark_duplicate", cast.ken, of=first.number)

    assert (case.outcome, case.linked_case) == (Outcome.DUPLICATE, first)


def test_converting_a_consultation_files_a_linked_complaint(consultation, cast, tree):
    case = act(consultation, "convert", cast.ken, kind="complaint")

    new = case.linked_case
    assert (case.status, case.outcome) == (Status.CLOSED, Outcome.CONVERTED)
    assert (new.kind, new.status, new.consumer, new.department) == (
        Kind.COMPLAINT,
        Status.SUBMITTED,
        cast.alice,
        tree.county,
    )
    assert new.linked_case == case and new.events.get().action == "submit"
    assert clock(new, ClockKind.ACCEPT).due == dt.date(2026, 6, 12)
    assert verify_case_events(new) is None


def test_every_action_has_a_label_and_known_params():
    for kind, table in TABLES.items():
        for spec in table:
            assert str(spec.label)
            assert action_spec(kind, spec.name) is spec
            assert not spec.note_param or spec.param(spec.note_param)


# --- The chain ----------------------------------------------------------------------------------


def test_the_chain_verifies_after_many_actions(complaint, cast):
    case = act(complaint, "supplement", cast.alice, facts="补充一")
    case = act(case, "supervise", cast.cathy, instructions="请按期办理")
    case = act(case, "accept", cast.ken, handler_unit="330106002")
    case = act(case, "start_mediation", cast.ken)
    case = act(case, "pause", cast.ken, reason="送检")
    case = act(case, "resume", cast.ken, on=dt.date(2026, 6, 5))
    case = act(case, "refer_clue", cast.ken, on=dt.date(2026, 6, 5), note="线索")
    case = act(case, "record_agreement", cast.ken, terms="退款", amount_recovered="10")
    case = act(case, "rate", cast.alice, satisfaction=5, resolved=True)

    assert case.events.count() == 10
    assert case.version == complaint.version + 9
    assert verify_case_events(case) is None


def test_a_referred_clue_is_verified_as_a_linked_report_the_parties_never_see(complaint, cast):
    from cases.access import cases_visible_to

    case = act(complaint, "accept", cast.ken, handler_unit="330106001")
    case = act(case, "start_mediation", cast.sam)
    case = act(case, "refer_clue", cast.sam, on=dt.date(2026, 6, 3), note="涉嫌销售不合格产品")

    report = Case.objects.get(linked_case=case)
    assert (report.kind, report.status, report.rules) == (Kind.REPORT, Status.VERIFYING, Rules.O121)
    assert (report.department_id, report.handler_unit_id) == ("330106", "330106001")
    assert (report.consumer_id, report.respondent_id) == (None, case.respondent_id)
    assert report.party_name == "杭州市西湖区市场监督管理局"  # the bureau reports, not the consumer
    assert report.facts == "涉嫌销售不合格产品"
    verify = Deadline.objects.get(case=report)
    # 15 working days from the referral (the Dragon Boat Festival, 19 June, not counted)
    assert (verify.kind, verify.started_on, verify.due) == (
        ClockKind.VERIFY,
        dt.date(2026, 6, 3),
        dt.date(2026, 6, 25),
    )
    assert report.next_due == verify.due
    assert case.events.last().data["new_case"] == report.number
    assert [e.action for e in report.events.order_by("seq")] == ["submit", "accept"]
    assert verify_case_events(report) is None
    # Staff of the unit see it; the complainant and the business never do.
    assert cases_visible_to(cast.sam).filter(pk=report.pk).exists()
    assert not cases_visible_to(cast.alice).filter(pk=report.pk).exists()
    assert not cases_visible_to(cast.betty).filter(pk=report.pk).exists()

    # The mediation ends; the verification goes on, and is worked as any report.
    act(case, "record_agreement", cast.sam, terms="退款", amount_recovered="10")
    report = act(report, "extend", cast.helen, on=dt.date(2026, 6, 10), reason="需检验")
    assert Deadline.objects.get(case=report).due == dt.date(2026, 7, 16)
    report = act(report, "decide", cast.helen, decision="filed", note="立案")
    assert (report.status, report.outcome) == (Status.CLOSED, Outcome.CASE_FILED)
    assert Deadline.objects.get(case=report).met_at is not None
