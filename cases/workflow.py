"""The case lifecycle as data (WORKFLOW.md): who may take which action in which state, what it
changes, which clocks it moves, what it records and which article it rests on.

Reading the tables below tells the whole law; `cases.services.perform` applies them and nothing
else changes a case. A provincial refinement or a corrected article number is a change here, not
in code: `docs/workflow.md` is generated from these tables (`manage.py workflow_doc`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.memberships import memberships_of
from accounts.models import Membership, Role, User
from cases.models import (
    Case,
    CaseEvent,
    ClockKind,
    Deadline,
    Kind,
    Outcome,
    Rules,
    Status,
    Visibility,
)
from cases.rules import local_date
from departments.models import Department, Level

# --- Time periods and the per-regulation rules ------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A legal time limit: working days (receipt day not counted) or calendar days."""

    working_days: int | None = None
    calendar_days: int | None = None

    def __str__(self) -> str:
        if self.working_days is not None:
            return f"{self.working_days} 个工作日"
        return f"{self.calendar_days} 日"


REJECTION_GROUND_LABELS: dict[str, Promise] = {
    "out_of_scope": _("不属于市场监督管理部门职责，或者本部门不具有处理权限"),
    "already_handled": _("法院、仲裁机构、其他行政机关或者消费者协会等已经受理或者处理"),
    "not_consumer": _("不是为生活消费需要，或者不能证明存在消费者权益争议"),
    "time_barred": _("知道或者应当知道权益受到侵害之日起超过三年"),
    "missing_materials": _("未提供规定的材料，或者提供虚假材料"),
    "identity": _("冒用他人名义投诉，或者拒绝身份核验"),
    "other_legal": _("法律、法规、规章规定不予受理的其他情形"),
}

TERMINATION_GROUND_LABELS: dict[str, Promise] = {
    "withdrawn_or_settled": _("投诉人撤回投诉，或者双方自行和解"),
    "absent_or_refused": _("一方无正当理由不参加调解，或者被投诉人明确拒绝调解"),
    "no_agreement_possible": _("一方明确表示无法达成调解协议"),
    "testing_cost_dispute": _("对检定、检测、鉴定机构或者费用承担无法协商一致"),
    "time_limit": _("超过调解期限仍未达成调解协议"),
    "rejection_ground_found": _("受理后发现存在不予受理情形"),
    "party_ceased": _("被投诉人主体资格终止"),
    "other_legal": _("法律、法规、规章规定的应当终止调解的其他情形"),
}


@dataclass(frozen=True)
class RuleSet:
    """What differs between the two regulation versions (chosen by the received date)."""

    key: str
    mediation: Period
    rejection_grounds: tuple[str, ...]
    termination_grounds: tuple[str, ...]
    max_representatives: int
    # None: the reporter is always told the filing decision; otherwise the name of a boolean
    # setting (default on) that a province may turn off.
    decision_notice_setting: str | None


RULESETS: dict[str, RuleSet] = {
    Rules.O20: RuleSet(
        key=Rules.O20,
        mediation=Period(working_days=45),
        rejection_grounds=(
            "out_of_scope",
            "already_handled",
            "not_consumer",
            "time_barred",
            "missing_materials",
            "other_legal",
        ),
        termination_grounds=(
            "withdrawn_or_settled",
            "absent_or_refused",
            "no_agreement_possible",
            "testing_cost_dispute",
            "time_limit",
            "rejection_ground_found",
            "other_legal",
        ),
        max_representatives=5,
        decision_notice_setting=None,
    ),
    Rules.O121: RuleSet(
        key=Rules.O121,
        mediation=Period(calendar_days=60),
        rejection_grounds=tuple(REJECTION_GROUND_LABELS),
        termination_grounds=tuple(TERMINATION_GROUND_LABELS),
        max_representatives=2,
        decision_notice_setting="REPORT_DECISION_NOTICE_O121",
    ),
}


def ruleset(rules: str) -> RuleSet:
    return RULESETS[rules]


def decision_notice_on(rules: str) -> bool:
    """Whether a real-name reporter who asked is told the filing decision (o20 Art. 31)."""
    name = ruleset(rules).decision_notice_setting
    return True if name is None else bool(getattr(settings, name, True))


# --- Parameters -------------------------------------------------------------------------------


class ParamType(StrEnum):
    TEXT = "text"
    DEPARTMENT = "department"  # a department code
    CHOICE = "choice"  # one of `choices` (or of the rule set's list named by `choices_from`)
    DECIMAL = "decimal"  # a non-negative amount of money
    RATING = "rating"  # an integer 1-5
    BOOL = "bool"
    DATE = "date"  # YYYY-MM-DD
    CASE_NUMBER = "case_number"
    ATTACHMENTS = "attachments"  # a list of attachment ids owned by the actor


@dataclass(frozen=True)
class Param:
    name: str
    type: ParamType = ParamType.TEXT
    required: bool = True
    choices: tuple[str, ...] = ()
    choices_from: str = ""  # "rejection_grounds" / "termination_grounds" of the rule set
    # A named check the service applies beyond the type (e.g. "handler_unit": the accepting
    # county or one of its stations). Listed in CHECKS for the docs.
    check: str = ""

    def choices_for(self, rules: str) -> tuple[str, ...]:
        if self.choices_from:
            return tuple(getattr(ruleset(rules), self.choices_from))
        return self.choices


CHECKS: dict[str, str] = {
    "handler_unit": "the accepting county itself or one of its stations",
    "transfer_target": "an active county-level unit other than the current department",
    "dispatch_target": "an active county-level unit below the dispatching department",
    "duplicate_of": "another report the actor may see, by the same reporter about the same party",
    "dispute_target": "an active county-level unit (a station stands for its county) other than "
    "the holder, neither above nor below it",
    "designate_target": "an active county-level unit below the common superior",
    "own_attachments": "uploads of the consumer not yet on a case; at most 10 per case",
}

# --- Who may act ------------------------------------------------------------------------------


class ActorKind(StrEnum):
    CONSUMER = "consumer"
    STAFF = "staff"


class Scope(StrEnum):
    """Which of the actor's memberships qualifies them."""

    PARTY = "party"  # the consumer the case belongs to
    HOLDER = "holder"  # a member of the department holding the case (intake)
    HANDLER = "handler"  # a member of the handling unit or of its county bureau
    ABOVE = "above"  # a member of a department above the unit holding the case (supervision)
    NAMED = "named"  # a member of the department named in the open authority dispute
    SUPERIOR = "superior"  # a member of the common superior of the two disputing departments


SCOPE_MEANINGS: dict[str, str] = {
    Scope.HOLDER: "a member of the department holding the case",
    Scope.HANDLER: "a member of the handling unit or of its county bureau",
    Scope.ABOVE: "a member of a department above the unit holding the case",
    Scope.PARTY: "the consumer the case belongs to",
    Scope.NAMED: "a member of the department the holder named in an open authority dispute",
    Scope.SUPERIOR: "a member of the lowest department above both disputing departments",
}


@dataclass(frozen=True)
class StartClock:
    """A clock an action opens, at the unit holding the case once the action is applied."""

    kind: str
    period: Period | None = None  # None: the rule set's mediation period
    from_receipt: bool = False  # counted from the receipt date instead of the action's date
    when: str = ""  # a named condition (CONDITIONS) for clocks that do not always start

    def period_for(self, rules: str) -> Period:
        return self.period or ruleset(rules).mediation


CONDITIONS: dict[str, str] = {
    "decision_notice": "the reporter asked to be told (notify_me) and the rules say so",
}


@dataclass(frozen=True)
class Extension:
    kind: str
    period: Period


@dataclass(frozen=True)
class ActionSpec:
    name: str
    label: Promise
    sources: tuple[str, ...]
    actor: ActorKind
    scope: Scope
    roles: tuple[str, ...] = ()  # any of these at the qualifying membership
    result: str | None = None  # the new status; None: stays
    outcome: str | None = None
    outcome_by: tuple[str, Mapping[str, str]] | None = None  # (param, value -> outcome)
    params: tuple[Param, ...] = ()
    note_param: str = ""  # the parameter recorded as the event's note
    meets: tuple[str, ...] = ()
    cancels: tuple[str, ...] = ()
    pauses: tuple[str, ...] = ()
    resumes: tuple[str, ...] = ()
    starts: tuple[StartClock, ...] = ()
    extends: Extension | None = None
    visibility: str = Visibility.PUBLIC
    internal_data: tuple[str, ...] = ()  # event data keys left out of the public timeline
    opens: str = ""  # the linked case the action opens (cases.services), for the docs
    guard: str | tuple[str, ...] = ""  # named conditions on the case (GUARDS), all must hold
    notify: bool = False  # tells the consumer (notifications.notices)
    articles: Mapping[str, str] = field(default_factory=dict)

    @property
    def closes(self) -> bool:
        return self.result == Status.CLOSED

    def outcome_for(self, params: Mapping[str, Any]) -> str:
        if self.outcome_by is not None:
            name, mapping = self.outcome_by
            return mapping[params[name]]
        return self.outcome or ""

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    @property
    def guard_names(self) -> tuple[str, ...]:
        return (self.guard,) if isinstance(self.guard, str) and self.guard else tuple(self.guard)


# --- The tables -------------------------------------------------------------------------------

COMPLAINT_OPEN = (Status.SUBMITTED, Status.ACCEPTED, Status.MEDIATING)
REPORT_OPEN = (Status.SUBMITTED, Status.VERIFYING)
CONSULTATION_OPEN = (Status.SUBMITTED,)
RUNNING = (ClockKind.MEDIATE, ClockKind.VERIFY, ClockKind.CLUE_VERIFY)
ACCEPT_CLOCK = StartClock(ClockKind.ACCEPT, Period(working_days=7))
# A report is verified within 15 working days of its receipt there (CF Art. 18); a clue referred
# from mediation opens a report with this clock from the referral (cases.services).
VERIFY_CLOCK = StartClock(ClockKind.VERIFY, Period(working_days=15), from_receipt=True)
# Two departments that each hold the other competent have 7 working days to agree; then the
# common superior designates (o121 Art. 33).
SETTLE_CLOCK = StartClock(ClockKind.SETTLE_AUTHORITY, Period(working_days=7))
ROUTING = (Role.INTAKE,)
ARTICLE_JURISDICTION: dict[str, str] = {Rules.O20: "o20 Art. 12", Rules.O121: "o121 Art. 13, 14"}
ARTICLE_CF18: dict[str, str] = {Rules.O20: "CF Art. 18", Rules.O121: "CF Art. 18"}
ARTICLE_MEDIATION: dict[str, str] = {Rules.O20: "o20 Art. 21", Rules.O121: "o121 Art. 23"}
ARTICLE_PAUSE: dict[str, str] = {Rules.O20: "o20 Art. 20", Rules.O121: "o121 Art. 22"}
# o20 has no article of its own on disputes between departments: its Art. 12 (the upper level
# decides when asked) is the basis there; o121 Art. 33 sets the 7 working days.
ARTICLE_DISPUTE: dict[str, str] = {Rules.O20: "o20 Art. 12", Rules.O121: "o121 Art. 13, 33"}

# The legal basis of each time limit (the deadline table in docs/workflow.md).
CLOCK_ARTICLES: dict[str, dict[str, str]] = {
    ClockKind.ACCEPT: {Rules.O20: "o20 Art. 14", Rules.O121: "o121 Art. 15"},
    ClockKind.MEDIATE: ARTICLE_MEDIATION,
    ClockKind.NOTIFY_TERMINATION: ARTICLE_MEDIATION,
    ClockKind.VERIFY: ARTICLE_CF18,
    ClockKind.CLUE_VERIFY: {Rules.O121: "o121 Art. 27"},
    ClockKind.NOTIFY_DECISION: {Rules.O20: "o20 Art. 31"},
    ClockKind.SETTLE_AUTHORITY: {Rules.O121: "o121 Art. 33"},
}
# Met when every notice linked to them is delivered (notifications.tasks), not by an action.
NOTICE_CLOCKS = (ClockKind.NOTIFY_TERMINATION, ClockKind.NOTIFY_DECISION)
# Started by intake when a case is submitted (counted from the receipt date), not by an action:
# accept for complaints and reports, answer for consultations.
STARTED_AT_SUBMISSION = (ClockKind.ACCEPT, ClockKind.ANSWER)


def _routing_actions() -> tuple[ActionSpec, ...]:
    """Transfer, escalate, dispatch: internal hops, each with a new accept clock where it lands."""
    common: dict[str, Any] = {
        "sources": (Status.SUBMITTED,),
        "actor": ActorKind.STAFF,
        "scope": Scope.HOLDER,
        "roles": ROUTING,
        "cancels": (ClockKind.ACCEPT,),
        "starts": (ACCEPT_CLOCK,),
        "visibility": Visibility.INTERNAL,
        "articles": ARTICLE_JURISDICTION,
    }
    return (
        ActionSpec(
            "transfer",
            _("移送有管辖权的部门"),
            params=(
                Param("department", ParamType.DEPARTMENT, check="transfer_target"),
                Param("reason"),
            ),
            note_param="reason",
            guard=("undisputed", "not_settled_here"),
            **common,
        ),
        ActionSpec(
            "escalate",
            _("报请上级部门"),
            params=(Param("reason"),),
            note_param="reason",
            guard=("has_parent", "undisputed"),
            **common,
        ),
        ActionSpec(
            "dispatch",
            _("分送下级部门"),
            params=(Param("department", ParamType.DEPARTMENT, check="dispatch_target"),),
            guard=("above_county", "undisputed"),
            **common,
        ),
    )


def _dispute_actions() -> tuple[ActionSpec, ...]:
    """Authority disputes (管辖争议, o121 Art. 33; Art. 13: a lower level may ask the upper one).
    The holder names the department it holds competent: its accept clock waits while the two
    settle it (the 7 working days of agreement are the departments', not the consumer's). The
    named department agrees (the case moves to it, as a transfer does) or refuses; once it has
    refused or the 7 days have passed, the common superior designates the competent department.
    The holder may withdraw the dispute and carry on. All internal routing."""
    common: dict[str, Any] = {
        "sources": (Status.SUBMITTED,),
        "actor": ActorKind.STAFF,
        "visibility": Visibility.INTERNAL,
        "articles": ARTICLE_DISPUTE,
    }
    moves: dict[str, Any] = {"meets": (ClockKind.SETTLE_AUTHORITY,), "cancels": (ClockKind.ACCEPT,)}
    return (
        ActionSpec(
            "dispute",
            _("提出管辖争议"),
            scope=Scope.HOLDER,
            roles=ROUTING,
            params=(
                Param("department", ParamType.DEPARTMENT, check="dispute_target"),
                Param("reason"),
            ),
            note_param="reason",
            pauses=(ClockKind.ACCEPT,),
            starts=(SETTLE_CLOCK,),
            guard=("undisputed", "not_settled_here"),
            **common,
        ),
        ActionSpec(
            "agree",
            _("同意管辖"),
            scope=Scope.NAMED,
            roles=ROUTING,
            params=(Param("note", required=False),),
            note_param="note",
            starts=(ACCEPT_CLOCK,),
            guard="unanswered",
            **moves,
            **common,
        ),
        ActionSpec(
            "refuse",
            _("不同意管辖"),
            scope=Scope.NAMED,
            roles=ROUTING,
            params=(Param("reason"),),
            note_param="reason",
            guard="unanswered",
            **common,
        ),
        ActionSpec(
            "withdraw_dispute",
            _("撤回管辖争议"),
            scope=Scope.HOLDER,
            roles=ROUTING,
            params=(Param("reason", required=False),),
            note_param="reason",
            cancels=(ClockKind.SETTLE_AUTHORITY,),
            resumes=(ClockKind.ACCEPT,),
            guard="disputed",
            **common,
        ),
        ActionSpec(
            "designate",
            _("指定管辖"),
            scope=Scope.SUPERIOR,
            roles=(Role.SUPERVISOR, Role.INTAKE),
            params=(
                Param("department", ParamType.DEPARTMENT, check="designate_target"),
                Param("reason"),
            ),
            note_param="reason",
            starts=(ACCEPT_CLOCK,),
            guard="designation_due",
            **moves,
            **common,
        ),
    )


def _accept(
    result: str,
    starts: tuple[StartClock, ...],
    articles: Mapping[str, str],
    guard: tuple[str, ...] = ("undisputed",),
) -> ActionSpec:
    """Accept and divert (分流): public as "accepted by the county bureau"; the station chosen
    is internal routing."""
    return ActionSpec(
        "accept",
        _("受理"),
        (Status.SUBMITTED,),
        ActorKind.STAFF,
        Scope.HOLDER,
        roles=(Role.INTAKE,),
        result=result,
        params=(Param("handler_unit", ParamType.DEPARTMENT, required=False, check="handler_unit"),),
        meets=(ClockKind.ACCEPT,),
        starts=starts,
        internal_data=("handler_unit",),
        guard=guard,
        notify=True,
        articles=articles,
    )


def _consumer_actions(open_states: tuple[str, ...]) -> tuple[ActionSpec, ...]:
    return (
        ActionSpec(
            "withdraw",
            _("撤回"),
            open_states,
            ActorKind.CONSUMER,
            Scope.PARTY,
            result=Status.CLOSED,
            outcome=Outcome.WITHDRAWN,
            params=(Param("reason", required=False),),
            note_param="reason",
        ),
        ActionSpec(
            "supplement",
            _("补充材料"),
            open_states,
            ActorKind.CONSUMER,
            Scope.PARTY,
            params=(
                Param("facts", required=False),
                Param(
                    "attachments", ParamType.ATTACHMENTS, required=False, check="own_attachments"
                ),
            ),
            note_param="facts",
        ),
        ActionSpec(
            "rate",
            _("评价"),
            (Status.CLOSED,),
            ActorKind.CONSUMER,
            Scope.PARTY,
            params=(
                Param("satisfaction", ParamType.RATING),
                Param("resolved", ParamType.BOOL),
                Param("comment", required=False),
            ),
            note_param="comment",
            guard="not_rated",
        ),
    )


def _supervision_actions(open_states: tuple[str, ...]) -> tuple[ActionSpec, ...]:
    """Supervisors above the holding unit: `supervise` issues a supervision order (督办单) to the
    unit holding the case (supervision.services.record_manual_order); `mark_major` flags the case
    for tracking supervision (跟踪督办)."""
    common: dict[str, Any] = {
        "sources": open_states,
        "actor": ActorKind.STAFF,
        "scope": Scope.ABOVE,
        "roles": (Role.SUPERVISOR,),
        "visibility": Visibility.INTERNAL,
    }
    return (
        ActionSpec(
            "supervise",
            _("督办"),
            params=(Param("instructions"), Param("due", ParamType.DATE, required=False)),
            note_param="instructions",
            **common,
        ),
        ActionSpec("mark_major", _("标记重大疑难"), guard="not_major", **common),
    )


def _reject() -> ActionSpec:
    return ActionSpec(
        "reject",
        _("不予受理"),
        (Status.SUBMITTED,),
        ActorKind.STAFF,
        Scope.HOLDER,
        roles=(Role.INTAKE,),
        result=Status.CLOSED,
        outcome=Outcome.REJECTED,
        params=(
            Param("ground", ParamType.CHOICE, choices_from="rejection_grounds"),
            Param("reason"),
        ),
        note_param="reason",
        meets=(ClockKind.ACCEPT,),
        guard="undisputed",
        notify=True,
        articles={Rules.O20: "o20 Art. 14, 15", Rules.O121: "o121 Art. 15, 16, 17"},
    )


def _handling(name: str, label: Promise, sources: tuple[str, ...], **kwargs: Any) -> ActionSpec:
    kwargs.setdefault("roles", (Role.HANDLER,))
    return ActionSpec(name, label, sources, ActorKind.STAFF, Scope.HANDLER, **kwargs)


def _pause_resume(sources: tuple[str, ...], articles: Mapping[str, str]) -> tuple[ActionSpec, ...]:
    """Testing, inspection and appraisal time is not counted."""
    return (
        _handling(
            "pause",
            _("中止计时（检测鉴定）"),
            sources,
            params=(Param("reason"),),
            note_param="reason",
            pauses=RUNNING,
            guard="not_paused",
            articles=articles,
        ),
        _handling(
            "resume",
            _("恢复计时"),
            sources,
            resumes=RUNNING,
            guard="paused",
            articles=articles,
        ),
    )


COMPLAINT: tuple[ActionSpec, ...] = (
    _accept(
        Status.ACCEPTED,
        (StartClock(ClockKind.MEDIATE),),
        {Rules.O20: "o20 Art. 14, 21", Rules.O121: "o121 Art. 15, 23"},
        # Complaints are handled at county level (o121 Art. 13).
        guard=("county_level", "undisputed"),
    ),
    _reject(),
    *_routing_actions(),
    *_dispute_actions(),
    _handling(
        "start_mediation",
        _("开始调解"),
        (Status.ACCEPTED,),
        result=Status.MEDIATING,
        params=(Param("note", required=False),),
        note_param="note",
        articles=ARTICLE_MEDIATION,
    ),
    *_pause_resume((Status.MEDIATING,), ARTICLE_PAUSE),
    _handling(
        "record_agreement",
        _("达成调解协议"),
        (Status.MEDIATING,),
        result=Status.CLOSED,
        outcome=Outcome.MEDIATED,
        params=(Param("terms"), Param("amount_recovered", ParamType.DECIMAL)),
        note_param="terms",
        meets=(ClockKind.MEDIATE,),
        notify=True,
        articles=ARTICLE_MEDIATION,
    ),
    _handling(
        "terminate",
        _("终止调解"),
        (Status.ACCEPTED, Status.MEDIATING),
        result=Status.CLOSED,
        outcome=Outcome.TERMINATED,
        params=(
            Param("ground", ParamType.CHOICE, choices_from="termination_grounds"),
            Param("note"),
        ),
        note_param="note",
        meets=(ClockKind.MEDIATE,),
        starts=(StartClock(ClockKind.NOTIFY_TERMINATION, Period(working_days=7)),),
        notify=True,
        articles=ARTICLE_MEDIATION,
    ),
    _handling(
        "refer_clue",
        _("移交违法线索（诉转案）"),
        (Status.MEDIATING,),
        params=(Param("note"),),
        note_param="note",
        opens="report, verifying at the handling unit: its verify clock runs 15 working days "
        "from today (the head may extend it once; `decide` meets it)",
        visibility=Visibility.INTERNAL,
        articles={Rules.O121: "o121 Art. 27"},
    ),
    *_consumer_actions(COMPLAINT_OPEN),
    *_supervision_actions(COMPLAINT_OPEN),
)

REPORT: tuple[ActionSpec, ...] = (
    _accept(
        Status.VERIFYING,
        (VERIFY_CLOCK,),
        ARTICLE_CF18,
    ),
    *_routing_actions(),
    *_dispute_actions(),
    ActionSpec(
        "refer_out",
        _("告知向其他部门反映"),
        (Status.SUBMITTED,),
        ActorKind.STAFF,
        Scope.HOLDER,
        roles=(Role.INTAKE,),
        result=Status.CLOSED,
        outcome=Outcome.REFERRED,
        params=(Param("authority"), Param("note")),
        note_param="note",
        meets=(ClockKind.ACCEPT,),
        guard="undisputed",
        notify=True,
    ),
    ActionSpec(
        "mark_duplicate",
        _("重复举报"),
        (Status.SUBMITTED,),
        ActorKind.STAFF,
        Scope.HOLDER,
        roles=(Role.INTAKE,),
        result=Status.CLOSED,
        outcome=Outcome.DUPLICATE,
        params=(Param("of", ParamType.CASE_NUMBER, check="duplicate_of"),),
        meets=(ClockKind.ACCEPT,),
        internal_data=("of",),
        guard="undisputed",
        articles={Rules.O121: "o121 Art. 35"},
    ),
    _handling(
        "extend",
        _("延长核查期限"),
        (Status.VERIFYING,),
        roles=(Role.HEAD,),
        params=(Param("reason"),),
        note_param="reason",
        extends=Extension(ClockKind.VERIFY, Period(working_days=15)),
        guard="not_extended",
        articles=ARTICLE_CF18,
    ),
    *_pause_resume((Status.VERIFYING,), ARTICLE_CF18),
    _handling(
        "decide",
        _("作出立案决定"),
        (Status.VERIFYING,),
        roles=(Role.HEAD,),
        result=Status.CLOSED,
        outcome_by=(
            "decision",
            {"filed": Outcome.CASE_FILED, "not_filed": Outcome.NOT_FILED},
        ),
        params=(Param("decision", ParamType.CHOICE, choices=("filed", "not_filed")), Param("note")),
        note_param="note",
        meets=(ClockKind.VERIFY,),
        starts=(
            StartClock(ClockKind.NOTIFY_DECISION, Period(working_days=5), when="decision_notice"),
        ),
        notify=True,
        articles={Rules.O20: "CF Art. 18; o20 Art. 31", Rules.O121: "CF Art. 18"},
    ),
    *_consumer_actions(REPORT_OPEN),
    *_supervision_actions(REPORT_OPEN),
)

CONSULTATION: tuple[ActionSpec, ...] = (
    ActionSpec(
        "answer",
        _("答复"),
        (Status.SUBMITTED,),
        ActorKind.STAFF,
        Scope.HOLDER,
        roles=(Role.INTAKE,),
        result=Status.CLOSED,
        outcome=Outcome.ANSWERED,
        params=(Param("answer"),),
        note_param="answer",
        meets=(ClockKind.ACCEPT, ClockKind.ANSWER),
        notify=True,
    ),
    ActionSpec(
        "convert",
        _("转为投诉或举报"),
        (Status.SUBMITTED,),
        ActorKind.STAFF,
        Scope.HOLDER,
        roles=(Role.INTAKE,),
        result=Status.CLOSED,
        outcome=Outcome.CONVERTED,
        params=(Param("kind", ParamType.CHOICE, choices=(Kind.COMPLAINT, Kind.REPORT)),),
        meets=(ClockKind.ACCEPT, ClockKind.ANSWER),
        opens="complaint or report (`kind`), submitted at the same department with its own "
        "accept clock",
    ),
    *_consumer_actions(CONSULTATION_OPEN),
    *_supervision_actions(CONSULTATION_OPEN),
)

TABLES: dict[str, tuple[ActionSpec, ...]] = {
    Kind.COMPLAINT: COMPLAINT,
    Kind.REPORT: REPORT,
    Kind.CONSULTATION: CONSULTATION,
}
SPECS: dict[str, dict[str, ActionSpec]] = {
    kind: {spec.name: spec for spec in table} for kind, table in TABLES.items()
}


def action_spec(kind: str, action: str) -> ActionSpec | None:
    return SPECS.get(kind, {}).get(action)


def actions_of(kind: str) -> list[str]:
    return list(SPECS.get(kind, {}))


def valid_states(kind: str) -> set[tuple[str, str]]:
    """Every (status, outcome) pair a case of this kind can be in, read off the table."""
    states = {(Status.SUBMITTED.value, "")}
    for spec in TABLES[kind]:
        if spec.result is None:
            continue
        outcomes = spec.outcome_by[1].values() if spec.outcome_by else [spec.outcome or ""]
        states |= {(spec.result, outcome) for outcome in outcomes}
    return states


# --- Guards -----------------------------------------------------------------------------------


def _county_level(case: Case) -> bool:
    return case.department.is_county_level


def _above_county(case: Case) -> bool:
    department = case.department
    return not department.is_county_level and department.level in (
        Level.NATIONAL,
        Level.PROVINCE,
        Level.CITY,
    )


def _not_extended(case: Case) -> bool:
    return Deadline.objects.filter(
        case=case, kind=ClockKind.VERIFY, met_at__isnull=True, cancelled=False, extended_days=0
    ).exists()


def _designation_due(case: Case) -> bool:
    """o121 Art. 33: the common superior designates once the departments failed to agree: the
    named one refused, or the 7 working days of the settling clock have passed."""
    if case.disputed_with_id is None:
        return False
    if case.dispute_refused:
        return True
    today = local_date(timezone.now())
    return (
        Deadline.objects.filter(
            case=case, kind=ClockKind.SETTLE_AUTHORITY, met_at__isnull=True, cancelled=False
        )
        .filter(due__lt=today)
        .exists()
    )


# The actions that settle which department is competent (o121 Art. 33).
SETTLING_ACTIONS = ("agree", "designate")


def _not_settled_here(case: Case) -> bool:
    """o121 Art. 33: once the named department agreed or the common superior designated, the
    department the case was settled on is bound by it: it raises no new dispute and transfers
    the case on to nobody (else the two departments could pass it back and forth for ever); it
    may still ask the upper level (`escalate`). A case an upper level has since routed elsewhere
    is routed there as any other."""
    settled = (
        CaseEvent.objects.filter(case=case, action__in=SETTLING_ACTIONS)
        .order_by("-seq")
        .values_list("data", flat=True)
        .first()
    )
    return settled is None or settled.get("department") != case.department_id


GUARDS: dict[str, tuple[str, Callable[[Case], bool]]] = {
    "county_level": ("the case is at a county-level unit", _county_level),
    "above_county": ("the case is above county level", _above_county),
    "has_parent": (
        "the department has a parent",
        lambda case: case.department.parent_id is not None,
    ),
    "not_paused": ("the clocks are running", lambda case: case.paused_since is None),
    "paused": ("the clocks are paused", lambda case: case.paused_since is not None),
    "not_extended": ("the verify clock was not extended yet", _not_extended),
    "not_major": ("not marked major yet", lambda case: not case.is_major),
    "not_rated": ("not rated yet", lambda case: case.rated_at is None),
    "undisputed": (
        "no authority dispute is open",
        lambda case: case.disputed_with_id is None,
    ),
    "disputed": ("an authority dispute is open", lambda case: case.disputed_with_id is not None),
    "not_settled_here": (
        "the holder was not made competent by an agreement or a designation (o121 Art. 33)",
        _not_settled_here,
    ),
    "unanswered": (
        "an authority dispute is open and the named department has not refused it",
        lambda case: case.disputed_with_id is not None and not case.dispute_refused,
    ),
    "designation_due": (
        "an authority dispute is open and the named department refused it or the 7 working "
        "days to agree have passed",
        _designation_due,
    ),
}
# Why an action its actor could otherwise take is refused now, for the guards whose reason is
# worth telling (the others get the general "not in this state").
GUARD_MESSAGES: dict[str, Promise] = {
    "undisputed": _(
        "本案有尚未解决的管辖争议：请等待对方部门答复或共同上级部门指定管辖，或先撤回争议。"
    ),
    "unanswered": _("对方部门已表示不同意管辖，请等待共同上级部门指定管辖。"),
    "not_settled_here": _(
        "本案管辖已经对方部门同意或上级部门指定，本部门不能再移送或提出管辖争议；"
        "确有异议的，请报请上级部门。"
    ),
    "designation_due": _(
        "对方部门表示不同意管辖，或管辖协商期限（7 个工作日）届满后，方可指定管辖。"
    ),
}

# --- Who may take an action now ---------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """Permission to take an action, and the unit the actor acts for (None for the consumer)."""

    department: Department | None


def _handler_units(case: Case) -> set[str]:
    unit = case.handler_unit
    if unit is None:
        return set()
    county = unit.parent_id if unit.level == Level.STATION and unit.parent_id else unit.code
    return {unit.code, county}


def _holding_unit(case: Case) -> Department:
    return case.handler_unit or case.department


def common_superior_code(first: Department, second: Department) -> str | None:
    """The code of the lowest department above both (by materialised path); None when one lies
    within the other (then there is no dispute between equals to settle)."""
    a, b = first.ancestor_codes(), second.ancestor_codes()
    shared = 0
    while shared < min(len(a), len(b)) and a[shared] == b[shared]:
        shared += 1
    if shared == 0 or shared in (len(a), len(b)):
        return None
    return a[shared - 1]


def dispute_superior_code(case: Case) -> str | None:
    """The common superior of the holder and the department named in its open dispute."""
    if case.disputed_with_id is None or case.disputed_with is None:
        return None
    return common_superior_code(case.department, case.disputed_with)


def _qualifies(scope: Scope, membership: Membership, case: Case) -> bool:
    if scope == Scope.HOLDER:
        return membership.department_id == case.department_id
    if scope == Scope.HANDLER:
        return membership.department_id in _handler_units(case)
    if scope == Scope.NAMED:
        return case.disputed_with_id is not None and membership.department_id == (
            case.disputed_with_id
        )
    if scope == Scope.SUPERIOR:
        return membership.department_id == dispute_superior_code(case)
    holder = _holding_unit(case)
    return holder.path.startswith(membership.department.path) and membership.department_id != (
        holder.code
    )


def _staff_grant(spec: ActionSpec, case: Case, user: User) -> Grant | None:
    for membership in memberships_of(user):
        has_role = any(membership.has_role(role) for role in spec.roles)
        if has_role and _qualifies(spec.scope, membership, case):
            return Grant(department=membership.department)
    return None


def _unguarded_grant(spec: ActionSpec, case: Case, user: User) -> Grant | None:
    """Whether `user` is the one to take `spec` in this state, the guards aside."""
    if not user.is_authenticated or case.status not in spec.sources:
        return None
    if spec.actor == ActorKind.CONSUMER:
        return Grant(department=None) if case.consumer_id == user.pk else None
    return _staff_grant(spec, case, user)


def _failed_guard(spec: ActionSpec, case: Case) -> str | None:
    return next((name for name in spec.guard_names if not GUARDS[name][1](case)), None)


def grant_for(spec: ActionSpec, case: Case, user: User) -> Grant | None:
    """Whether `user` may take `spec` on `case` now, and on behalf of which unit."""
    grant = _unguarded_grant(spec, case, user)
    if grant is None or _failed_guard(spec, case) is not None:
        return None
    return grant


def refusal_message(spec: ActionSpec, case: Case, user: User) -> str | None:
    """Why `user`, who would otherwise take `spec` now, may not: the first failing guard's
    message when it has one (None: the general refusal fits)."""
    if _unguarded_grant(spec, case, user) is None:
        return None
    failed = _failed_guard(spec, case)
    return str(GUARD_MESSAGES[failed]) if failed in GUARD_MESSAGES else None


def allowed_actions(case: Case, user: User) -> list[str]:
    """The actions this caller may take on this case now, in table order (every case response)."""
    return [spec.name for spec in TABLES[case.kind] if grant_for(spec, case, user) is not None]


def public_event_data(action: str, kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """An event's data as the public timeline may show it (the diverting part of accept is
    internal routing: the charter keeps 分转流程 out of public view)."""
    spec = action_spec(kind, action)
    hidden = set(spec.internal_data) if spec else set()
    return {key: value for key, value in data.items() if key not in hidden}
