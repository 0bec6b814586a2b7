"""Audit of the case lifecycle against WORKFLOW.md (SAMR Orders No. 20 and No. 121, CF Art. 18).

Each test states one rule of the text that no other test module proved, and drives the real
services: cases are filed through `submit_case` (time frozen so the receipt is exact), moved by
`perform` and swept by `sweep_deadlines`. The last section holds the rules the audit found
broken (the clue found in mediation, a moved report's verification period, duplicates of another
reporter's report), now kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from accounts.models import User
from cases.intake import submit_case
from cases.models import Case, ClockKind, Deadline, Kind, Outcome, Rules, Status
from cases.rules import SHANGHAI
from cases.services import InvalidAction, InvalidParams
from cases.workflow import allowed_actions
from supervision.models import OrderKind, SupervisionOrder
from supervision.sweeps import sweep_deadlines
from tests.test_supervision_factories import act, at, complaint_payload, frozen
from workdays.calendar import source_for_year

D = dt.date
CALLER = {"real_name": "王来电", "phone": "13900000009", "address": "杭州市西湖区文三路1号"}


def file(kind: str, *, by: User, received: dt.datetime, **extra: Any) -> Case:
    """A case filed through intake, the platform's clock frozen an hour after `received`; a
    hotline agent records the receipt time, a consumer's case is received when filed."""
    payload = complaint_payload(**extra)
    if kind == Kind.REPORT:
        payload.pop("demand")
    if by.username == "hank":
        payload["received_at"] = received.isoformat()
    else:
        payload.pop("on_behalf_of")
    with frozen(received + dt.timedelta(hours=1) if by.username == "hank" else received):
        return submit_case(kind=kind, by=by, payload=payload)


def open_clock(case: Case, kind: str) -> Deadline:
    return Deadline.objects.get(case=case, kind=kind, met_at=None, cancelled=False)


def mediating(cast, received_on: D, accepted_on: D, by: User | None = None) -> Case:
    case = file(Kind.COMPLAINT, by=by or cast.hank, received=at(received_on))
    case = act(case, "accept", by=cast.ken, on=accepted_on)
    return act(case, "start_mediation", by=cast.ken, on=accepted_on)


# --- Which regulation: the day of receipt in China -----------------------------------------------


def test_a_complaint_filed_half_an_hour_into_15_april_in_china_follows_order_121(cast):
    # 16:30 UTC on 14 April is 00:30 on 15 April in Shanghai.
    received = dt.datetime(2026, 4, 14, 16, 30, tzinfo=dt.UTC)

    case = file(Kind.COMPLAINT, by=cast.alice, received=received)

    assert case.rules == Rules.O121
    accept = open_clock(case, ClockKind.ACCEPT)
    # Receipt day (Wednesday 15 April) not counted: 16, 17, 20, 21, 22, 23, 24 April.
    assert (accept.started_on, accept.due) == (D(2026, 4, 15), D(2026, 4, 24))


def test_a_call_received_a_minute_before_midnight_on_14_april_follows_order_20(cast):
    received = dt.datetime(2026, 4, 14, 23, 59, tzinfo=SHANGHAI)

    case = file(Kind.COMPLAINT, by=cast.hank, received=received)

    assert case.rules == Rules.O20
    assert open_clock(case, ClockKind.ACCEPT).due == D(2026, 4, 23)


def test_a_complaint_received_during_national_day_is_due_on_the_seventh_working_day_after(cast):
    # 3 October 2026 is a holiday; 8, 9, 10 (a make-up Saturday), 12, 13, 14, 15 October.
    case = file(Kind.COMPLAINT, by=cast.hank, received=at(D(2026, 10, 3)))

    assert open_clock(case, ClockKind.ACCEPT).due == D(2026, 10, 15)


# --- Complaint deadlines -----------------------------------------------------------------------


def test_a_60_day_mediation_that_ends_in_the_national_day_holiday_runs_to_the_next_working_day(
    cast,
):
    case = mediating(cast, received_on=D(2026, 7, 31), accepted_on=D(2026, 8, 3))

    # 3 August + 60 days = Friday 2 October, a holiday; the first working day after is 8 October.
    assert case.rules == Rules.O121
    assert open_clock(case, ClockKind.MEDIATE).due == D(2026, 10, 8)


def test_testing_across_the_national_day_holiday_gives_back_only_the_working_days_paused(cast):
    case = mediating(cast, received_on=D(2026, 8, 31), accepted_on=D(2026, 9, 1))
    # 1 September + 60 days = Saturday 31 October: the limit runs to Monday 2 November.
    assert open_clock(case, ClockKind.MEDIATE).due == D(2026, 11, 2)

    case = act(case, "pause", by=cast.ken, on=D(2026, 9, 30), reason="送检")
    case = act(case, "resume", by=cast.ken, on=D(2026, 10, 9))

    # Paused 1-9 October: only 8 and 9 October were working days, so two are given back.
    assert open_clock(case, ClockKind.MEDIATE).due == D(2026, 11, 4)


def test_a_mediation_clock_ending_in_a_year_without_a_published_notice_still_gets_a_date(cast):
    assert source_for_year(2027) == "fallback"
    case = mediating(cast, received_on=D(2026, 11, 30), accepted_on=D(2026, 12, 1))

    # 1 December + 60 days = Saturday 30 January 2027: Monday to Friday in the fallback year.
    assert open_clock(case, ClockKind.MEDIATE).due == D(2027, 2, 1)


def test_both_parties_are_to_be_told_of_a_termination_within_7_working_days_over_a_holiday(cast):
    case = mediating(cast, received_on=D(2026, 9, 1), accepted_on=D(2026, 9, 2))

    case = act(
        case, "terminate", by=cast.ken, on=D(2026, 9, 30), ground="absent_or_refused", note="拒绝"
    )

    assert (case.status, case.outcome) == (Status.CLOSED, Outcome.TERMINATED)
    assert open_clock(case, ClockKind.NOTIFY_TERMINATION).due == D(2026, 10, 15)


def test_an_overdue_mediation_clock_raises_an_order_and_a_paused_one_does_not(cast):
    running = mediating(cast, received_on=D(2026, 7, 31), accepted_on=D(2026, 8, 3))
    paused = mediating(cast, received_on=D(2026, 7, 31), accepted_on=D(2026, 8, 3))
    act(paused, "pause", by=cast.ken, on=D(2026, 9, 1), reason="送检")

    # Both were due 8 October; the running one is overdue the next day.
    sweep_deadlines(today=D(2026, 10, 9))

    order = SupervisionOrder.objects.get(kind=OrderKind.OVERDUE)
    assert (order.case, order.deadline.kind) == (running, ClockKind.MEDIATE)
    assert not open_clock(paused, ClockKind.MEDIATE).overdue


def test_withdrawing_during_paused_mediation_closes_the_case_and_leaves_no_clock(cast):
    case = mediating(cast, received_on=D(2026, 6, 1), accepted_on=D(2026, 6, 2), by=cast.alice)
    case = act(case, "pause", by=cast.ken, on=D(2026, 6, 3), reason="送检")

    case = act(case, "withdraw", by=cast.alice, on=D(2026, 6, 4))

    assert (case.status, case.outcome, case.paused_since) == (
        Status.CLOSED,
        Outcome.WITHDRAWN,
        None,
    )
    assert not Deadline.objects.filter(case=case, met_at=None, cancelled=False).exists()
    assert allowed_actions(case, cast.ken) == []


# --- Reports: who decides, and the decision notice ----------------------------------------------


def test_only_the_head_of_the_handling_county_extends_and_decides(cast, tree):
    report = file(Kind.REPORT, by=cast.hank, received=at(D(2026, 6, 1)))
    report = act(report, "accept", by=cast.ken, on=D(2026, 6, 2), handler_unit="330106001")

    for someone in (cast.ken, cast.sam, cast.nick, cast.cathy):
        assert not {"extend", "decide"} & set(allowed_actions(report, someone)), someone
        with pytest.raises(InvalidAction):
            act(report, "decide", by=someone, on=D(2026, 6, 3), decision="filed", note="x")
    assert {"extend", "decide"} <= set(allowed_actions(report, cast.helen))

    report = act(report, "decide", by=cast.helen, on=D(2026, 6, 3), decision="filed", note="立案")
    assert report.outcome == Outcome.CASE_FILED


def test_order_20_always_tells_the_reporter_even_where_order_121_lets_a_province_turn_it_off(
    cast, settings
):
    settings.REPORT_DECISION_NOTICE_O121 = False
    old = file(Kind.REPORT, by=cast.hank, received=at(D(2026, 3, 2)), notify_me=True)
    new = file(Kind.REPORT, by=cast.hank, received=at(D(2026, 6, 1)), notify_me=True)
    assert (old.rules, new.rules) == (Rules.O20, Rules.O121)

    for case, day in ((old, D(2026, 3, 20)), (new, D(2026, 6, 5))):
        case = act(case, "accept", by=cast.ken, on=day)
        act(case, "decide", by=cast.helen, on=day, decision="not_filed", note="证据不足")

    # Within 5 working days of the decision (Friday 20 March): 23-27 March.
    assert open_clock(old, ClockKind.NOTIFY_DECISION).due == D(2026, 3, 27)
    assert not Deadline.objects.filter(case=new, kind=ClockKind.NOTIFY_DECISION).exists()


def test_a_report_accepted_late_keeps_its_15_days_from_receipt_and_one_extension(cast):
    report = file(Kind.REPORT, by=cast.hank, received=at(D(2026, 6, 5)))
    report = act(report, "accept", by=cast.ken, on=D(2026, 6, 12))
    assert open_clock(report, ClockKind.VERIFY).due == D(2026, 6, 29)

    report = act(report, "extend", by=cast.helen, on=D(2026, 6, 26), reason="需调取平台数据")

    assert open_clock(report, ClockKind.VERIFY).due == D(2026, 7, 20)
    with pytest.raises(InvalidAction):
        act(report, "extend", by=cast.helen, on=D(2026, 7, 1), reason="再次延长")


# --- Rules the audit found broken, now kept -------------------------------------------------------


def test_a_transferred_report_gets_15_working_days_from_its_arrival_at_the_competent_department(
    cast,
):
    report = file(Kind.REPORT, by=cast.hank, received=at(D(2026, 6, 1)))
    report = act(
        report, "transfer", by=cast.ken, on=D(2026, 6, 22), department="330102", reason="行为地"
    )
    assert open_clock(report, ClockKind.ACCEPT).due == D(2026, 7, 1)  # the new accept clock

    report = act(report, "accept", by=cast.nick, on=D(2026, 6, 23))

    # Counted from the original receipt it would be due 23 June, the day it was accepted.
    assert open_clock(report, ClockKind.VERIFY).due == D(2026, 7, 13)


def _clue_clock(complaint: Case) -> Deadline:
    """The open 15-working-day verification a referred clue owes, wherever it is kept: on the
    complaint, or on a verification linked to it (WORKFLOW.md: "opens a linked verification")."""
    clocks = Deadline.objects.filter(
        kind__in=[ClockKind.CLUE_VERIFY, ClockKind.VERIFY], met_at=None, cancelled=False
    )
    linked = Case.objects.filter(linked_case=complaint).values("pk")
    return clocks.filter(case__in=[complaint.pk, *linked.values_list("pk", flat=True)]).get()


def test_the_verification_of_a_referred_clue_outlives_the_mediation(cast):
    case = mediating(cast, received_on=D(2026, 6, 1), accepted_on=D(2026, 6, 2))
    case = act(case, "refer_clue", by=cast.ken, on=D(2026, 6, 3), note="涉嫌销售不合格产品")

    act(case, "record_agreement", by=cast.ken, on=D(2026, 6, 4), terms="退款", amount_recovered=1)

    # 15 working days from 3 June (the Dragon Boat Festival on 19 June not counted).
    assert _clue_clock(case).due == D(2026, 6, 25)


def test_the_head_may_extend_a_clue_verification_once_by_15_working_days(cast):
    case = mediating(cast, received_on=D(2026, 6, 1), accepted_on=D(2026, 6, 2))
    case = act(case, "refer_clue", by=cast.ken, on=D(2026, 6, 3), note="涉嫌销售不合格产品")
    holder = _clue_clock(case).case

    act(holder, "extend", by=cast.helen, on=D(2026, 6, 10), reason="需检验")

    assert _clue_clock(case).due == D(2026, 7, 16)


def test_a_report_is_not_a_duplicate_of_another_reporters_report(cast):
    alices = file(Kind.REPORT, by=cast.alice, received=at(D(2026, 6, 1)))
    bobs = file(Kind.REPORT, by=cast.bob, received=at(D(2026, 6, 1)))

    with pytest.raises(InvalidParams) as raised:
        act(bobs, "mark_duplicate", by=cast.ken, on=D(2026, 6, 2), of=alices.number)
    assert "of" in raised.value.fields
    assert Case.objects.get(pk=bobs.pk).status == Status.SUBMITTED


def test_the_time_limit_ground_waits_for_the_last_day_of_mediation(cast):
    """o121 Art. 23 (o20 Art. 21): a mediation ends on the ground "time limit" only once its 60
    days (45 working days) have run; not before, and not while the clock is paused."""
    case = mediating(cast, received_on=D(2026, 6, 1), accepted_on=D(2026, 6, 2))
    last_day = open_clock(case, ClockKind.MEDIATE).due
    ground = {"ground": "time_limit", "note": "调解期限届满"}

    with pytest.raises(InvalidParams) as early:
        act(case, "terminate", by=cast.ken, on=last_day - dt.timedelta(days=1), **ground)
    assert "ground" in early.value.fields
    case = act(case, "pause", by=cast.ken, on=last_day - dt.timedelta(days=5), reason="送检")
    with pytest.raises(InvalidParams):
        act(case, "terminate", by=cast.ken, on=last_day, **ground)  # paused: the limit waits
    case = act(case, "resume", by=cast.ken, on=last_day)
    last_day = open_clock(case, ClockKind.MEDIATE).due

    ended = act(case, "terminate", by=cast.ken, on=last_day, **ground)

    assert (ended.status, ended.outcome) == (Status.CLOSED, Outcome.TERMINATED)
