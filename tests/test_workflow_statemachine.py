"""Random action sequences by random members of the cast, with random (often wrong) parameters.

Whatever happens, the invariants hold: only the table's transitions happen, a closed case stays
closed (only a single rating is possible), every successful perform adds exactly one event and
bumps the version by one while a refused one changes nothing, the hash chain verifies, and no
clock falls due before the day the case was received."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Min
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from cases.events import verify_case_events
from cases.models import Case, Deadline, Kind, Rules, Status
from cases.rules import local_date
from cases.services import WorkflowError, perform
from cases.workflow import (
    REJECTION_GROUND_LABELS,
    SPECS,
    TERMINATION_GROUND_LABELS,
    Param,
    ParamType,
    action_spec,
    allowed_actions,
    valid_states,
)
from tests.test_workflow_factory import (  # noqa: F401 (an autouse fixture)
    O20_DAY,
    O121_DAY,
    at,
    frozen,
    make_case,
)

ACTORS = ("alice", "bob", "betty", "ken", "helen", "sam", "cathy", "nora", "nick")
ACTIONS = sorted({name for table in SPECS.values() for name in table}) + ["fly"]
GROUNDS = sorted({*REJECTION_GROUND_LABELS, *TERMINATION_GROUND_LABELS}) + ["bogus"]


def candidates(param: Param, rules: str, duplicate_of: str, *, valid: bool) -> list[Any]:
    """A few values per parameter: plausible ones, or (when not `valid`) wrong ones too."""
    plausible: dict[str, list[Any]] = {
        ParamType.TEXT: ["情况说明"],
        ParamType.DEPARTMENT: ["330106001", "330106", "330102"],
        ParamType.CHOICE: list(param.choices_for(rules)),
        ParamType.DECIMAL: ["10.50", 3],
        ParamType.RATING: [1, 5],
        ParamType.BOOL: [True, False],
        ParamType.DATE: ["2027-01-04"],
        ParamType.CASE_NUMBER: [duplicate_of],
        ParamType.ATTACHMENTS: [["not-a-uuid"]],
    }
    wrong: dict[str, list[Any]] = {
        ParamType.TEXT: ["", 7],
        ParamType.DEPARTMENT: ["330100", "330102001", "999999"],
        ParamType.CHOICE: GROUNDS,
        ParamType.DECIMAL: ["-1", "1.001"],
        ParamType.RATING: [0, 9],
        ParamType.BOOL: ["yes"],
        ParamType.DATE: ["soon", "2020-01-01"],
        ParamType.CASE_NUMBER: ["J-nope"],
        ParamType.ATTACHMENTS: [[]],
    }
    return plausible[param.type] + ([] if valid else wrong[param.type])


def make_machine(cast: Any, tree: Any) -> type[RuleBasedStateMachine]:
    class Workflow(RuleBasedStateMachine):
        case: Case
        day: dt.date
        other_report: Case

        @initialize(
            kind=st.sampled_from(Kind.values),
            rules=st.sampled_from(Rules.values),
            notify_me=st.booleans(),
        )
        def submit(self, kind: str, rules: str, notify_me: bool) -> None:
            received = O20_DAY if rules == Rules.O20 else O121_DAY
            self.case = make_case(
                kind=kind,
                department=tree.county,
                consumer=cast.alice,
                respondent=cast.shop,
                received_at=received,
                notify_me=notify_me,
            )
            self.other_report = make_case(
                kind=Kind.REPORT, department=tree.county, consumer=cast.alice, received_at=received
            )
            self.day = local_date(received)
            self.rated = False

        @rule(
            days=st.integers(0, 3), plausible=st.sampled_from([True] * 3 + [False]), data=st.data()
        )
        def act(self, days: int, plausible: bool, data: st.DataObject) -> None:
            """Mostly an action someone may take now with plausible parameters, so that
            sequences get somewhere; otherwise anyone trying anything."""
            self.day += dt.timedelta(days=days)
            before = Case.objects.get(pk=self.case.pk)
            allowed = {name: allowed_actions(before, getattr(cast, name)) for name in ACTORS}
            pairs = [(name, action) for name, actions in allowed.items() for action in actions]
            if plausible and pairs:
                actor, action = data.draw(st.sampled_from(pairs))
            else:
                actor, action = (
                    data.draw(st.sampled_from(ACTORS)),
                    data.draw(st.sampled_from(ACTIONS)),
                )
            user = getattr(cast, actor)
            params = self._params(action, data, valid=plausible)
            events = before.events.count()
            try:
                with frozen(at(self.day)):
                    after = perform(before, action, by=user, **params)
            except WorkflowError:
                after = Case.objects.get(pk=self.case.pk)
                assert (after.version, after.status) == (before.version, before.status)
                assert after.events.count() == events
                return
            self._check_transition(before, after, action, allowed[actor], events)

        def _params(self, action: str, data: st.DataObject, *, valid: bool) -> dict[str, Any]:
            spec = action_spec(self.case.kind, action)
            params: dict[str, Any] = {}
            for param in spec.params if spec else ():
                if param.required or data.draw(st.booleans()):
                    options = candidates(
                        param, self.case.rules, self.other_report.number, valid=valid
                    )
                    params[param.name] = data.draw(st.sampled_from(options))
            return params

        def _check_transition(
            self, before: Case, after: Case, action: str, allowed: list[str], events: int
        ) -> None:
            spec = action_spec(before.kind, action)
            assert spec is not None and action in allowed
            assert before.status in spec.sources
            assert after.status == (spec.result or before.status)
            assert after.version == before.version + 1
            assert after.events.count() == events + 1
            if before.status == Status.CLOSED:
                assert action == "rate" and not self.rated
                assert after.outcome == before.outcome
                self.rated = True

        @invariant()
        def the_state_is_one_the_table_can_reach(self) -> None:
            case = Case.objects.get(pk=self.case.pk)
            assert (case.status, case.outcome) in valid_states(case.kind)
            assert (case.closed_at is not None) == (case.status == Status.CLOSED)

        @invariant()
        def a_closed_case_allows_at_most_one_rating(self) -> None:
            case = Case.objects.get(pk=self.case.pk)
            if case.status != Status.CLOSED:
                return
            for name in ACTORS:
                expected = ["rate"] if name == "alice" and case.rated_at is None else []
                assert allowed_actions(case, getattr(cast, name)) == expected

        @invariant()
        def the_chain_verifies(self) -> None:
            assert verify_case_events(Case.objects.get(pk=self.case.pk)) is None

        @invariant()
        def no_clock_falls_due_before_receipt(self) -> None:
            received = local_date(self.case.received_at)
            assert not Deadline.objects.filter(case=self.case, due__lt=received).exists()

        @invariant()
        def every_case_knows_its_next_due_date(self) -> None:
            # The earliest open clock (the consultation's converted case too), as the queues read.
            for case in Case.objects.all():
                clocks = Deadline.objects.filter(case=case, met_at__isnull=True, cancelled=False)
                assert case.next_due == clocks.aggregate(due=Min("due"))["due"], case.number

    return Workflow


def test_random_action_sequences_keep_the_workflow_invariants(cast, tree):
    run_state_machine_as_test(
        make_machine(cast, tree),
        settings=settings(
            max_examples=30,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            database=None,
        ),
    )
