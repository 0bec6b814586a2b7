"""`perform`: the one way a case changes state (DESIGN.md, "The spine").

Web pages, the JSON API, the admin and tasks all call it. It locks the case row, checks the
optimistic `version`, asks the workflow table whether this user may take this action now,
validates the parameters against the table and the case's rule set, applies the transition,
appends one hash-chained event, moves the clocks and writes the outbox, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from cases import evidence
from cases.deadlines import (
    cancel_clocks,
    due_soon_limit,
    meet_clocks,
    open_clocks,
    pause_clocks,
    resume_clocks,
    settle_next_due,
    start_clock,
)
from cases.events import append_event
from cases.models import Case, ClockKind, Deadline, Kind, Status, Visibility
from cases.numbering import assign_number, placeholder_number
from cases.rules import MAX_DUE_DAYS, local_date, parse_day, rules_for
from cases.text import clean_text
from cases.workflow import (
    ACCEPT_CLOCK,
    NOTICE_CLOCKS,
    VERIFY_CLOCK,
    ActionSpec,
    Grant,
    Param,
    ParamType,
    StartClock,
    action_spec,
    actions_of,
    allowed_actions,
    decision_notice_on,
    dispute_superior_code,
    grant_for,
    refusal_message,
)
from departments.models import Department, Level
from notifications import notices
from supervision import rollups
from workdays.calendar import add_working_days

FACTS_SEPARATOR = "\n\n—— 补充 {date} ——\n"
MAX_TEXT = 5000
MAX_AMOUNT = Decimal("1e12")


class WorkflowError(Exception):
    """A refused action; `code` is the API error code."""

    code = "workflow_error"

    def __init__(
        self,
        message: str,
        *,
        allowed_actions: list[str] | None = None,
        fields: dict[str, list[str]] | None = None,
        choices: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.allowed_actions = allowed_actions or []
        self.fields = fields or {}
        self.choices = choices or []


class StaleVersion(WorkflowError):
    """Someone changed the case since the caller read it (optimistic locking)."""

    code = "stale_version"


class InvalidAction(WorkflowError):
    """Not allowed for this user in this state."""

    code = "invalid_action"


class InvalidParams(WorkflowError):
    """Unknown action, or missing / wrong parameters."""

    code = "invalid"


@dataclass
class Step:
    """One perform in progress: what the appliers and the clock moves share."""

    case: Case
    spec: ActionSpec
    by: User
    grant: Grant
    params: dict[str, Any]
    now: dt.datetime
    changed: list[str] = field(default_factory=list)  # fields to save
    data: dict[str, Any] = field(default_factory=dict)  # event data beyond the parameters

    @property
    def today(self) -> dt.date:
        return local_date(self.now)


def perform(
    case: Case, action: str, *, by: User, version: int | None = None, **params: Any
) -> Case:
    """Take `action` on `case` as `by`; returns the updated case or raises a WorkflowError."""
    with transaction.atomic():
        locked = _lock(case)
        if version is not None and version != locked.version:
            raise StaleVersion(
                _("案件已被他人更新，请刷新后重试。"), allowed_actions=allowed_actions(locked, by)
            )
        spec = action_spec(locked.kind, action) if isinstance(action, str) else None
        if spec is None:
            raise InvalidParams(
                _("未知的操作。"),
                fields={"action": [_("此类案件没有该操作。")]},
                choices=actions_of(locked.kind),
            )
        grant = grant_for(spec, locked, by)
        if grant is None:
            raise InvalidAction(
                refusal_message(spec, locked, by) or _("当前状态下您不能执行此操作。"),
                allowed_actions=allowed_actions(locked, by),
            )
        clean = _clean(spec, locked, by, params)
        counted = rollups.snapshot(locked)
        _apply(Step(case=locked, spec=spec, by=by, grant=grant, params=clean, now=timezone.now()))
        rollups.record_change(counted, locked)
        return locked


def _lock(case: Case) -> Case:
    # `of=("self",)`: PostgreSQL cannot lock the nullable side of the handler_unit join.
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("department", "handler_unit", "consumer", "disputed_with")
        .get(pk=case.pk)
    )


# --- Parameters -------------------------------------------------------------------------------


class _ParamError(ValueError):
    def __init__(self, message: str, choices: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.choices = choices


def _clean(spec: ActionSpec, case: Case, by: User, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check the parameters against the table (types, choices of this rule set, named checks)."""
    fields: dict[str, list[str]] = {
        name: [_("此操作不接受该参数。")] for name in raw if spec.param(name) is None
    }
    choices: tuple[str, ...] = ()
    clean: dict[str, Any] = {}
    for param in spec.params:
        value = raw.get(param.name)
        if value is None or value == "" or value == []:
            if param.required:
                fields[param.name] = [_("此项为必填项。")]
            continue
        try:
            clean[param.name] = CLEANERS[param.type](param, value, case, by)
        except _ParamError as exc:
            fields[param.name] = [exc.message]
            choices = exc.choices or choices
    if spec.name == "supplement" and not fields and not clean:
        fields["facts"] = [_("请填写补充的事实或附上材料。")]
    if fields:
        raise InvalidParams(
            _("提交的数据有误，请按字段提示修改。"), fields=fields, choices=list(choices)
        )
    return clean


def _text(param: Param, value: Any, case: Case, by: User) -> str:
    text = clean_text(value) if isinstance(value, str) else ""
    if not text:
        raise _ParamError(_("应为非空文本。"))
    if len(text) > MAX_TEXT:
        raise _ParamError(_("文本过长（最多 %(n)d 字）。") % {"n": MAX_TEXT})
    return text


def _department(param: Param, value: Any, case: Case, by: User) -> Department:
    department = (
        Department.objects.filter(code=value, is_active=True).first()
        if isinstance(value, str)
        else None
    )
    if department is None:
        raise _ParamError(_("没有这个部门。"))
    if param.check == "dispute_target":
        department = department.county_bureau  # a station stands for its county bureau
    check, message = DEPARTMENT_CHECKS[param.check]
    if not check(department, case):
        raise _ParamError(str(message))
    return department


def _choice(param: Param, value: Any, case: Case, by: User) -> str:
    options = param.choices_for(case.rules)
    if value not in options:
        raise _ParamError(_("不是可选的值。"), choices=options)
    time_limit = param.choices_from == "termination_grounds" and value == TIME_LIMIT_GROUND
    if time_limit and not _mediation_time_is_up(case):
        raise _ParamError(_("调解期限尚未届满，不能以此为由终止调解。"), choices=options)
    return str(value)


TIME_LIMIT_GROUND = "time_limit"


def _mediation_time_is_up(case: Case) -> bool:
    """The ground "time limit" (o20 Art. 21: 45 working days; o121 Art. 23: 60 days) holds once
    the running mediation clock's last day has come: not before, and not while it is paused."""
    return (
        open_clocks(case, ClockKind.MEDIATE)
        .filter(paused_since__isnull=True, due__lte=local_date(timezone.now()))
        .exists()
    )


def _decimal(param: Param, value: Any, case: Case, by: User) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _ParamError(_('应为金额，例如 "199.00"。'))
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise _ParamError(_('应为金额，例如 "199.00"。')) from exc
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        raise _ParamError(_("金额应为不小于 0、最多两位小数的数。"))
    if int(amount.as_tuple().exponent) < -2:
        raise _ParamError(_("金额应为不小于 0、最多两位小数的数。"))
    return amount.quantize(Decimal("0.01"))


def _rating(param: Param, value: Any, case: Case, by: User) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise _ParamError(_("应为 1 到 5 的整数。"))
    return value


def _bool(param: Param, value: Any, case: Case, by: User) -> bool:
    if not isinstance(value, bool):
        raise _ParamError(_("应为 true 或 false。"))
    return value


def _date(param: Param, value: Any, case: Case, by: User) -> dt.date:
    """A due date: from today to `MAX_DUE_DAYS` ahead (the only dates actions take)."""
    day, today = parse_day(value), local_date(timezone.now())
    if day is None or day < today:
        raise _ParamError(_("应为今天或以后的日期（YYYY-MM-DD）。"))
    if day > today + dt.timedelta(days=MAX_DUE_DAYS):
        raise _ParamError(_("应在今天起 %(n)d 天之内。") % {"n": MAX_DUE_DAYS})
    return day


def _case_number(param: Param, value: Any, case: Case, by: User) -> Case:
    from cases.access import cases_visible_to

    other = (
        cases_visible_to(by).filter(number=value, kind=case.kind).exclude(pk=case.pk).first()
        if isinstance(value, str)
        else None
    )
    if other is None:
        raise _ParamError(_("没有可见的同类案件使用这个编号。"))
    if param.check == "duplicate_of" and not _same_reporter_and_party(case, other):
        raise _ParamError(_("重复举报应为同一举报人对同一被举报人的举报。"))
    return other


def _same_reporter_and_party(case: Case, other: Case) -> bool:
    """o121 Art. 35: a duplicate repeats the same reporter's report about the same party. The
    reporter is the account when both have one, else the phone recorded; the party is the
    business on the platform when both name one, else the name given."""
    if case.consumer_id is not None and other.consumer_id is not None:
        same_reporter = case.consumer_id == other.consumer_id
    else:
        same_reporter = bool(case.party_phone) and case.party_phone == other.party_phone
    if case.respondent_id is not None and other.respondent_id is not None:
        same_party = case.respondent_id == other.respondent_id
    else:
        same_party = _plain_name(case.respondent_name) == _plain_name(other.respondent_name)
    return same_reporter and same_party


def _plain_name(name: str) -> str:
    return "".join(name.split()).casefold()


def _attachments(param: Param, value: Any, case: Case, by: User) -> list[str]:
    ids = evidence.parse_ids(value)
    if not ids:
        raise _ParamError(_("应为附件编号的列表。"))
    if len(ids) > evidence.MAX_PER_CASE:
        raise _ParamError(_("每件最多%(n)d个证据文件。") % {"n": evidence.MAX_PER_CASE})
    return ids


CLEANERS: dict[str, Callable[[Param, Any, Case, User], Any]] = {
    ParamType.TEXT: _text,
    ParamType.DEPARTMENT: _department,
    ParamType.CHOICE: _choice,
    ParamType.DECIMAL: _decimal,
    ParamType.RATING: _rating,
    ParamType.BOOL: _bool,
    ParamType.DATE: _date,
    ParamType.CASE_NUMBER: _case_number,
    ParamType.ATTACHMENTS: _attachments,
}


def _handler_unit_ok(unit: Department, case: Case) -> bool:
    """The accepting county itself or one of its stations (分流)."""
    return unit.pk == case.department_id or (
        unit.level == Level.STATION and unit.parent_id == case.department_id
    )


def _transfer_target_ok(unit: Department, case: Case) -> bool:
    return unit.is_county_level and unit.pk != case.department_id


def _dispatch_target_ok(unit: Department, case: Case) -> bool:
    return (
        unit.is_county_level
        and unit.pk != case.department_id
        and unit.path.startswith(case.department.path)
    )


def _dispute_target_ok(unit: Department, case: Case) -> bool:
    """Another active county-level unit, neither above nor below the holder: two departments on
    a par, each with a common superior to designate between them (o121 Art. 33)."""
    holder = case.department
    return (
        unit.is_active
        and unit.is_county_level
        and unit.pk != holder.pk
        and not unit.is_within(holder)
        and not holder.is_within(unit)
    )


def _designate_target_ok(unit: Department, case: Case) -> bool:
    """Any active county-level unit below the common superior (usually one of the two)."""
    superior = dispute_superior_code(case)
    return (
        superior is not None
        and unit.is_active
        and unit.is_county_level
        and f"/{superior}/" in f"/{unit.path}"
        and unit.pk != superior
    )


DEPARTMENT_CHECKS: dict[str, tuple[Callable[[Department, Case], bool], Promise]] = {
    "handler_unit": (_handler_unit_ok, gettext_lazy("承办单位应为本局或其下属市场监管所。")),
    "transfer_target": (_transfer_target_ok, gettext_lazy("应移送至另一个县级市场监管部门。")),
    "dispatch_target": (_dispatch_target_ok, gettext_lazy("应分送至本部门辖区内的县级部门。")),
    "dispute_target": (
        _dispute_target_ok,
        gettext_lazy("应为本部门以外、与本部门互不隶属的县级市场监管部门。"),
    ),
    "designate_target": (
        _designate_target_ok,
        gettext_lazy("应指定本部门辖区内的县级市场监管部门。"),
    ),
}


def _apply(step: Step) -> None:
    case, spec = step.case, step.spec
    APPLIERS.get(spec.name, _no_change)(step)
    if spec.result is not None:
        _set(step, status=spec.result, outcome=spec.outcome_for(step.params))
    if spec.closes:
        _set(step, closed_at=step.now, paused_since=None)
        if case.disputed_with_id is not None:  # closing ends an open authority dispute
            _drop_dispute(step)
    _set(step, version=case.version + 1)
    case.save(update_fields=[*dict.fromkeys(step.changed), "updated_at"])
    started = _move_clocks(step)
    settle_next_due(case)
    append_event(
        case,
        action=spec.name,
        by=step.by,
        department=step.grant.department,
        visibility=spec.visibility,
        note=str(step.params.get(spec.note_param, "")) if spec.note_param else "",
        data={**_event_data(step), **step.data},
        at=step.now,
    )
    if spec.notify:
        _notify(step, started)


def _set(step: Step, **values: Any) -> None:
    for name, value in values.items():
        setattr(step.case, name, value)
        step.changed.append(name)


def _event_data(step: Step) -> dict[str, Any]:
    note = step.spec.note_param
    return {name: _serialisable(value) for name, value in step.params.items() if name != note}


def _serialisable(value: Any) -> Any:
    if isinstance(value, Department | Case):
        return value.pk if isinstance(value, Department) else value.number
    if isinstance(value, list):
        return [str(item) for item in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value if isinstance(value, bool | int | str) or value is None else str(value)


# --- What each action changes on the case -----------------------------------------------------


def _no_change(step: Step) -> None:
    return None


def _accept(step: Step) -> None:
    _set(step, handler_unit=step.params.get("handler_unit") or step.case.department)
    step.params["handler_unit"] = step.case.handler_unit
    step.data["accepted_by"] = step.case.department.county_bureau.code


def _move_to(step: Step) -> None:
    step.data["from"] = step.case.department_id
    _set(step, department=step.params["department"])


def _escalate(step: Step) -> None:
    parent = step.case.department.parent
    assert parent is not None  # the table's "has_parent" guard
    step.data["from"] = step.case.department_id
    _set(step, department=parent)
    step.data["department"] = parent.code


def _dispute(step: Step) -> None:
    """The holder names the department it holds competent (o121 Art. 33); that department's
    intake is told at once, and the event records the common superior who would designate."""
    from supervision import alerts

    named: Department = step.params["department"]
    _set(step, disputed_with=named, dispute_refused=False)
    step.data["superior"] = dispute_superior_code(step.case)
    alerts.dispute_raised(step.case, named=named, reason=str(step.params["reason"]))


def _refuse(step: Step) -> None:
    """The named department holds itself not competent: the common superior is told to
    designate (the settling clock keeps running until it does)."""
    from supervision import alerts

    _set(step, dispute_refused=True)
    superior = dispute_superior_code(step.case)
    step.data["superior"] = superior
    if superior is not None:
        alerts.dispute_refused(step.case, superior=superior, reason=str(step.params["reason"]))


def _end_dispute(step: Step) -> None:
    _set(step, disputed_with=None, dispute_refused=False)


def _drop_dispute(step: Step) -> None:
    """The dispute ends without a decision on it (the holder withdraws it, or the case closes):
    the named department, and the common superior once asked to designate, are told that
    nothing is awaited from them any more."""
    from supervision import alerts

    case = step.case
    named, refused = case.disputed_with, case.dispute_refused
    superior = dispute_superior_code(case) if refused else None
    _end_dispute(step)
    if named is not None:
        alerts.dispute_dropped(case, units=[named.code, *([superior] if superior else [])])


def _agree(step: Step) -> None:
    """The named department accepts the case: it moves there, as a transfer does."""
    named = step.case.disputed_with
    assert named is not None  # the table's "unanswered" guard
    step.data["from"] = step.case.department_id
    step.data["department"] = named.code
    _set(step, department=named)
    _end_dispute(step)


def _designate(step: Step) -> None:
    """The common superior designates the competent department; the case moves there (or stays,
    when it is the holder) with a new accept clock."""
    step.data["from"] = step.case.department_id
    step.data["superior"] = dispute_superior_code(step.case)
    _set(step, department=step.params["department"])
    _end_dispute(step)


def _record_agreement(step: Step) -> None:
    _set(step, amount_recovered=step.params["amount_recovered"])


def _pause(step: Step) -> None:
    _set(step, paused_since=step.today)


def _resume(step: Step) -> None:
    _set(step, paused_since=None)


def _answer(step: Step) -> None:
    _set(step, answer=step.params["answer"])


def _mark_duplicate(step: Step) -> None:
    _set(step, linked_case=step.params["of"])


def _mark_major(step: Step) -> None:
    _set(step, is_major=True)


def _supervise(step: Step) -> None:
    """A supervision order (督办单) to the unit holding the case, from the supervisor's body."""
    from supervision.services import record_manual_order

    assert step.grant.department is not None  # the ABOVE scope always names the supervising body
    order = record_manual_order(
        case=step.case,
        by=step.by,
        from_department=step.grant.department,
        instructions=step.params["instructions"],
        due=step.params.get("due"),
    )
    step.data.update(order=order.pk, to=order.to_department_id, due=order.due.isoformat())


def _rate(step: Step) -> None:
    params = step.params
    _set(
        step,
        satisfaction=params["satisfaction"],
        resolved=params["resolved"],
        rating_comment=params.get("comment", ""),
        rated_at=step.now,
    )


def _supplement(step: Step) -> None:
    facts = step.params.get("facts")
    if facts:
        separator = FACTS_SEPARATOR.format(date=step.today.isoformat())
        _set(step, facts=(step.case.facts + separator + facts) if step.case.facts else facts)
    ids = step.params.get("attachments") or []
    try:
        evidence.claim_uploads(owner=step.by, ids=ids, case=step.case)
    except evidence.EvidenceError as exc:
        raise InvalidParams(str(exc), fields={"attachments": [str(exc)]}) from exc


def _refer_clue(step: Step) -> None:
    """诉转案 (o121 Art. 27): the violation found in mediation is verified as a report of its own,
    whatever becomes of the mediation (`_open_clue_verification`)."""
    report = _open_clue_verification(
        step.case, note=str(step.params["note"]), by=step.by, at=step.now
    )
    step.data["new_case"] = report.number


def _convert(step: Step) -> None:
    new_case = _create_converted(step.case, kind=step.params["kind"], by=step.by, at=step.now)
    _set(step, linked_case=new_case)
    step.data["new_case"] = new_case.number


APPLIERS: dict[str, Callable[[Step], None]] = {
    "accept": _accept,
    "transfer": _move_to,
    "dispatch": _move_to,
    "escalate": _escalate,
    "record_agreement": _record_agreement,
    "pause": _pause,
    "resume": _resume,
    "answer": _answer,
    "mark_duplicate": _mark_duplicate,
    "mark_major": _mark_major,
    "supervise": _supervise,
    "rate": _rate,
    "supplement": _supplement,
    "convert": _convert,
    "refer_clue": _refer_clue,
    "dispute": _dispute,
    "refuse": _refuse,
    "agree": _agree,
    "withdraw_dispute": _drop_dispute,
    "designate": _designate,
}

# --- Converting a consultation ----------------------------------------------------------------

RESPONDENT_FIELDS = (
    "respondent",
    "respondent_name",
    "respondent_uscc",
    "respondent_address",
    "platform_name",
    "platform_address",
)
CONVERTED_FIELDS = (
    "channel",
    "consumer",
    "party_name",
    "party_phone",
    "party_address",
    *RESPONDENT_FIELDS,
    "category",
    "amount",
    "occurred_on",
    "facts",
    "demand",
)


def _create_converted(consultation: Case, *, kind: str, by: User, at: dt.datetime) -> Case:
    """The complaint or report a consultation turns into: a new submission at the same
    department, received now (its own rules and accept clock), linked back to the consultation."""
    new_case = Case.objects.create(
        number=placeholder_number(),
        kind=kind,
        rules=rules_for(at),
        department=consultation.department,
        received_at=at,
        created_by=by,
        linked_case=consultation,
        **{name: getattr(consultation, name) for name in CONVERTED_FIELDS},
    )
    assign_number(new_case)
    rollups.case_filed(new_case)
    append_event(
        new_case,
        action="submit",
        by=by,
        department=consultation.department,
        data={"converted_from": consultation.number},
        at=at,
    )
    start_clock(
        new_case,
        kind=ACCEPT_CLOCK.kind,
        department=new_case.department,
        start=local_date(at),
        working_days=ACCEPT_CLOCK.period_for(new_case.rules).working_days,
    )
    return new_case


# --- A clue found in mediation (诉转案) ----------------------------------------------------------

CLUE_FIELDS = ("channel", *RESPONDENT_FIELDS, "category", "occurred_on")


def _open_clue_verification(complaint: Case, *, note: str, by: User, at: dt.datetime) -> Case:
    """A report in verification at the unit handling the complaint, linked back to it: the bureau
    reports what its mediation found (no consumer: the complainant is not its reporter and does
    not see it; businesses never see reports). Its VERIFY clock runs 15 working days from today,
    which the head may extend once and `decide` meets, as for any report (o121 Art. 27)."""
    unit = complaint.handler_unit or complaint.department
    bureau = unit.county_bureau
    report = Case.objects.create(
        number=placeholder_number(),
        kind=Kind.REPORT,
        status=Status.VERIFYING,
        rules=rules_for(at),
        department=complaint.department,
        handler_unit=unit,
        received_at=at,
        created_by=by,
        linked_case=complaint,
        party_name=bureau.bureau_name,
        party_phone="",
        facts=note,
        **{name: getattr(complaint, name) for name in CLUE_FIELDS},
    )
    assign_number(report)
    rollups.case_filed(report)
    referred = {"referred_from": complaint.number}
    append_event(
        report,
        action="submit",
        by=by,
        department=complaint.department,
        visibility=Visibility.INTERNAL,
        data=referred,
        at=at,
    )
    append_event(
        report,
        action="accept",
        by=by,
        department=unit,
        visibility=Visibility.INTERNAL,
        data={"handler_unit": unit.pk, "accepted_by": bureau.pk, **referred},
        at=at,
    )
    start_clock(
        report,
        kind=VERIFY_CLOCK.kind,
        department=unit,
        start=local_date(at),
        working_days=VERIFY_CLOCK.period_for(report.rules).working_days,
    )
    return report


# --- Clocks -----------------------------------------------------------------------------------


def _move_clocks(step: Step) -> dict[str, Deadline]:
    case, spec, on = step.case, step.spec, step.today
    if spec.meets:
        meet_clocks(case, *spec.meets)
    if spec.cancels:
        cancel_clocks(case, *spec.cancels)
    if spec.closes:
        cancel_clocks(case)  # closing settles every clock still open
    if spec.pauses:
        pause_clocks(case, *spec.pauses, on=on)
    if spec.resumes:
        resume_clocks(case, *spec.resumes, on=on)
    if spec.extends is not None:
        _extend(case, spec.extends.kind, spec.extends.period.working_days or 0, on=on)
    return {clock.kind: _start(step, clock) for clock in spec.starts if _holds(clock.when, case)}


def _start(step: Step, clock: StartClock) -> Deadline:
    case = step.case
    period = clock.period_for(case.rules)
    return start_clock(
        case,
        kind=clock.kind,
        department=case.handler_unit or case.department,
        start=_arrival_day(case) if clock.from_receipt else step.today,
        working_days=period.working_days,
        calendar_days=period.calendar_days,
    )


def _arrival_day(case: Case) -> dt.date:
    """The day the case reached the department that accepts it, which a clock counted "from
    receipt" starts from (CF Art. 18: for a case transferred or assigned from above, the day it
    arrived there): the start of its latest accept clock, which intake and each move open."""
    arrived = (
        Deadline.objects.filter(case=case, kind=ACCEPT_CLOCK.kind)
        .order_by("-started_on", "-pk")
        .values_list("started_on", flat=True)
        .first()
    )
    return arrived or local_date(case.received_at)


def _extend(case: Case, kind: str, days: int, *, on: dt.date) -> None:
    """Move the clocks on by `days` working days, once. The overdue mark comes off, and the
    due-soon mark when the new date lies past the window (as the next sweep would take it off):
    the deadline queues count a marked clock only on cases whose next due date is in range."""
    limit = due_soon_limit(on)
    for clock in open_clocks(case, kind).filter(extended_days=0):
        clock.due = add_working_days(clock.due, days)
        clock.extended_days = days
        clock.overdue = False
        clock.due_soon = clock.due_soon and clock.due < limit
        clock.save(update_fields=["due", "extended_days", "overdue", "due_soon"])


def _holds(condition: str, case: Case) -> bool:
    if condition == "decision_notice":
        return case.notify_me and decision_notice_on(case.rules)
    return not condition


# --- Notifications ----------------------------------------------------------------------------


def _notify(step: Step, started: dict[str, Deadline]) -> None:
    """Tell the consumer (and, for a termination, the business) through the outbox."""
    case = step.case
    if step.spec.name == "decide" and not _holds("decision_notice", case):
        return
    notice = notices.case_notice(step.spec.name, case, step.params)
    if notice is None:
        return
    clock = next((started[kind] for kind in NOTICE_CLOCKS if kind in started), None)
    notices.send_to_consumer(case, notice, deadline=clock)
    if step.spec.name == "terminate":
        notices.send_termination_to_business(case, step.params, deadline=clock)
