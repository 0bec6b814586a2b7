"""Writes on supervision: raising, answering and escalating orders, and tracking supervision.

Every write locks the case row first (`lock_case`), the same lock `cases.services.perform` takes,
so the case timeline's sequence cannot race and two sweeps cannot both raise or escalate one order.
Orders, answers and escalations are internal events on the case timeline: the consumer never
sees supervision (API.md, "Cases").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from cases.deadlines import today as local_today
from cases.events import append_event
from cases.models import Case, ClockKind, Deadline, Visibility
from cases.rules import MAX_DUE_DAYS
from cases.services import WorkflowError, perform
from cases.text import clean_text
from cases.workflow import action_spec, dispute_superior_code, grant_for
from departments.models import Department
from supervision import alerts
from supervision.models import OrderKind, OrderStatus, SupervisionOrder, Tracking
from supervision.units import holding_unit, is_receiving_staff, superior_of
from workdays.calendar import add_working_days

DEFAULT_ORDER_DAYS = 3
MAX_TEXT = 5000
MAX_TRACKING_PERIOD = 60


class SupervisionError(Exception):
    """A refused supervision write; `status` and `code` are what the API answers with."""

    status = 400
    code = "supervision_error"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotAllowed(SupervisionError):
    status = 403
    code = "forbidden"


class Conflict(SupervisionError):
    """The order was already answered or escalated, or the case is already tracked."""

    status = 409
    code = "conflict"


class InvalidInput(SupervisionError):
    status = 422
    code = "invalid"


class IdempotencyMismatch(InvalidInput):
    """An Idempotency-Key already used for another body (the code the case endpoints answer)."""

    code = "idempotency_mismatch"


def order_days() -> int:
    """Working days a unit has to answer an order; read at call time so tests and provinces can
    change it without a restart."""
    return int(getattr(settings, "SUPERVISION_ORDER_DAYS", DEFAULT_ORDER_DAYS))


def default_due(today: dt.date) -> dt.date:
    return add_working_days(today, order_days())


def lock_case(case: Case) -> Case:
    """The case row, locked for this transaction (PostgreSQL cannot lock the nullable join)."""
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("department", "handler_unit")
        .get(pk=case.pk)
    )


def create_order(
    case: Case,
    *,
    kind: str,
    from_department: Department,
    to_department: Department,
    instructions: str,
    due: dt.date,
    by: User | None = None,
    deadline: Deadline | None = None,
    tracking: Tracking | None = None,
    round: int = 0,
    idempotency: tuple[str, str] = ("", ""),
) -> SupervisionOrder:
    """The one place an order comes into being; it alerts the unit addressed. The caller records
    it on the timeline (`raise_order`, or `perform`'s `supervise` action for manual orders)."""
    order = SupervisionOrder.objects.create(
        case=case,
        deadline=deadline,
        tracking=tracking,
        kind=kind,
        from_department=from_department,
        to_department=to_department,
        instructions=instructions,
        due=due,
        round=round,
        created_by=by,
        idempotency_key=idempotency[0],
        request_hash=idempotency[1],
    )
    alerts.order_arrived(order)
    return order


def raise_order(
    case: Case,
    *,
    action: str = "supervision_order",
    extra: dict[str, Any] | None = None,
    **order_fields: Any,
) -> SupervisionOrder:
    """Create an order the system raises (overdue, escalation, tracking) on a case locked by the
    caller, and record it on the timeline as an internal event."""
    order = create_order(case, **order_fields)
    data = {
        "order": order.pk,
        "kind": order.kind,
        "from": order.from_department_id,
        "to": order.to_department_id,
        "due": order.due.isoformat(),
        **(extra or {}),
    }
    append_event(
        case,
        action=action,
        by=order.created_by,
        department=order.from_department,
        visibility=Visibility.INTERNAL,
        note=order.instructions,
        data=data,
    )
    return order


def record_manual_order(
    *, case: Case, by: User, from_department: Department, instructions: str, due: dt.date | None
) -> SupervisionOrder:
    """The order behind the workflow's `supervise` action; `perform` appends the event."""
    return create_order(
        case,
        kind=OrderKind.MANUAL,
        from_department=from_department,
        to_department=holding_unit(case),
        instructions=instructions,
        due=due or default_due(local_today()),
        by=by,
    )


# --- Manual orders ----------------------------------------------------------------------------


def _clean_text(value: str, *, field: str, label: str) -> str:
    text = clean_text(value or "")
    if not text:
        raise InvalidInput(_("请填写%(label)s。") % {"label": label}, fields={field: [_("必填。")]})
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            _("%(label)s过长。") % {"label": label},
            fields={field: [_("最多 %(n)d 字。") % {"n": MAX_TEXT}]},
        )
    return text


def _clean_due(due: dt.date | None, today: dt.date) -> dt.date:
    if due is None:
        return default_due(today)
    if due < today:
        raise InvalidInput(
            _("答复期限不能早于今天。"), fields={"due": [_("应为今天或以后的日期。")]}
        )
    if due > today + dt.timedelta(days=MAX_DUE_DAYS):
        raise InvalidInput(
            _("答复期限不能晚于 %(n)d 天后。") % {"n": MAX_DUE_DAYS},
            fields={"due": [_("应在今天起 %(n)d 天之内。") % {"n": MAX_DUE_DAYS}]},
        )
    return due


def supervising_department(case: Case, by: User) -> Department | None:
    """The department `by` supervises `case` for: a supervisor membership strictly above the
    unit holding it (the workflow table's `supervise` rule, so there is one answer to "who may
    supervise"). None when they may not."""
    spec = action_spec(case.kind, "supervise")
    grant = grant_for(spec, case, by) if spec is not None else None
    return grant.department if grant is not None else None


def _request_hash(**values: Any) -> str:
    canonical = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(by: User, key: str, request_hash: str) -> SupervisionOrder | None:
    first = SupervisionOrder.objects.filter(created_by=by, idempotency_key=key).first()
    if first is not None and first.request_hash != request_hash:
        raise IdempotencyMismatch(
            _("该幂等键已用于内容不同的另一次提交。"),
            fields={"Idempotency-Key": [_("已用于另一次提交。")]},
        )
    return first


def issue_manual_order(
    *,
    case: Case,
    by: User,
    instructions: str,
    due: dt.date | None = None,
    idempotency_key: str = "",
) -> SupervisionOrder:
    """A supervisor orders the unit holding `case` to act (人工督办). Only supervisors of a
    department strictly above that unit may; a retry with the same key returns the first order."""
    text = _clean_text(instructions, field="instructions", label=_("督办要求"))
    due_on = _clean_due(due, local_today())
    request_hash = _request_hash(case=case.number, instructions=text, due=due)
    if idempotency_key and (first := _replay(by, idempotency_key, request_hash)) is not None:
        return first
    try:
        with transaction.atomic():
            return _issue(case, by, text, due_on, (idempotency_key, request_hash))
    except IntegrityError:
        winner = _replay(by, idempotency_key, request_hash) if idempotency_key else None
        if winner is None:
            raise
        return winner


def _issue(
    case: Case, by: User, text: str, due: dt.date, idempotency: tuple[str, str]
) -> SupervisionOrder:
    """Manual orders go through the one path for case actions: `perform(case, "supervise")`."""
    locked = lock_case(case)
    if supervising_department(locked, by) is None:
        raise NotAllowed(_("只有上级部门的督办人员可以对办理中的案件发出督办单。"))
    try:
        perform(locked, "supervise", by=by, instructions=text, due=due.isoformat())
    except WorkflowError as exc:
        raise NotAllowed(str(exc)) from exc
    order = SupervisionOrder.objects.filter(case=locked, kind=OrderKind.MANUAL, created_by=by)
    issued = order.latest("id")
    if idempotency[0]:
        issued.idempotency_key, issued.request_hash = idempotency
        issued.save(update_fields=["idempotency_key", "request_hash"])
    return issued


# --- Answering --------------------------------------------------------------------------------


def respond_to_order(*, order: SupervisionOrder, by: User, note: str) -> SupervisionOrder:
    """The unit addressed answers (for a tracking order: the progress report). Claimed by a
    conditional update, so a double submit or a concurrent escalation answers at most once."""
    text = _clean_text(note, field="note", label=_("答复内容"))
    if not is_receiving_staff(by, order.to_department):
        raise NotAllowed(_("只有被督办单位的工作人员可以答复。"))
    with transaction.atomic():
        case = lock_case(order.case)
        answered = SupervisionOrder.objects.filter(pk=order.pk, status=OrderStatus.OPEN).update(
            status=OrderStatus.ANSWERED,
            response=text,
            responded_by=by,
            responded_at=timezone.now(),
        )
        if not answered:
            raise Conflict(_("该督办单已答复或已升级督办，不能再答复。"))
        append_event(
            case,
            action="supervision_answer",
            by=by,
            department=order.to_department,
            visibility=Visibility.INTERNAL,
            note=text,
            data={"order": order.pk, "kind": order.kind},
        )
    order.refresh_from_db()
    return order


# --- Escalation -------------------------------------------------------------------------------


def escalate_order(order_id: int, *, today: dt.date) -> SupervisionOrder | None:
    """Replace an unanswered order past its due date by one from the next level up to the same
    unit. None when it is not due for escalation (answered, escalated by a parallel sweep, not
    late, already from the national body, or a progress report on a case since closed)."""
    with transaction.atomic():
        order = SupervisionOrder.objects.select_related("case", "from_department__parent").get(
            pk=order_id
        )
        case = lock_case(order.case)
        superior = superior_of(order.from_department)
        if superior is None or (order.kind == OrderKind.TRACKING and not case.is_open):
            return None
        claimed = SupervisionOrder.objects.filter(
            pk=order.pk, status=OrderStatus.OPEN, due__lt=today
        ).update(status=OrderStatus.ESCALATED)
        if not claimed:
            return None
        facts = {"due": order.due.isoformat(), "from": order.from_department.name}
        new = raise_order(
            case,
            kind=order.kind,
            from_department=superior,
            to_department=order.to_department,
            instructions=_("%(from)s督办单（答复期限 %(due)s）逾期未答复，升级督办。") % facts
            + "\n"
            + order.instructions,
            due=default_due(today),
            deadline=order.deadline,
            tracking=order.tracking,
            round=order.round + 1,
            action="supervision_escalate",
            extra={"escalated_from": order.pk},
        )
        SupervisionOrder.objects.filter(pk=order.pk).update(escalated_to=new)
        return new


# --- Overdue clocks ---------------------------------------------------------------------------


def raise_overdue_order(deadline_id: int, *, today: dt.date) -> SupervisionOrder | None:
    """The one order an overdue clock raises, from the body above the unit holding the case.
    Re-checked under the case lock: None if a parallel sweep raised it or the clock was met."""
    with transaction.atomic():
        case = _lock_case_of_clock(deadline_id)
        clock = _clock_owing_order(deadline_id)
        if clock is None:
            return None
        superior, owing = _chased(case, clock)
        if superior is None:
            return None
        facts = {"clock": clock.get_kind_display(), "due": clock.due.isoformat()}
        return raise_order(
            case,
            kind=OrderKind.OVERDUE,
            from_department=superior,
            to_department=owing,
            instructions=_("%(clock)s已于 %(due)s 届满仍未办结，请立即办理并说明超期原因。")
            % facts,
            due=default_due(today),
            deadline=clock,
        )


def _chased(case: Case, clock: Deadline) -> tuple[Department | None, Department]:
    """(the body that chases, the unit chased) for an overdue clock: the unit that owes the next
    step and the body above it. The settling clock of an authority dispute (o121 Art. 33) is owed
    by the department named in it until it answers — chased by the common superior, above both —
    and, once it refused, by the common superior, which designates — chased by the body above."""
    if clock.kind == ClockKind.SETTLE_AUTHORITY and case.disputed_with is not None:
        common = Department.objects.filter(pk=dispute_superior_code(case)).first()
        if common is not None:
            if case.dispute_refused:
                return superior_of(common), common
            return common, case.disputed_with
    holder = holding_unit(case)
    return superior_of(holder), holder


def _lock_case_of_clock(deadline_id: int) -> Case:
    """`lock_case` for the case a clock runs on, in one query with the holding unit and the body
    above it (the clock's case never changes, so no read of the clock is needed first)."""
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("department__parent", "handler_unit__parent", "disputed_with")
        .get(deadlines=deadline_id)
    )


def _clock_owing_order(deadline_id: int) -> Deadline | None:
    """The clock, read after the case lock, if it is still open and overdue and has not raised its
    first order (one query for what a racing sweep or a met clock would change)."""
    raised = SupervisionOrder.objects.filter(
        deadline=OuterRef("pk"), kind=OrderKind.OVERDUE, round=0
    )
    owing = Deadline.objects.filter(pk=deadline_id, met_at__isnull=True, cancelled=False)
    return owing.filter(overdue=True).filter(~Exists(raised)).first()


# --- Tracking supervision ---------------------------------------------------------------------


def start_tracking(
    *, case: Case, by: User, every_n_working_days: int, today: dt.date | None = None
) -> Tracking:
    """Mark the case major/difficult (through the workflow's `mark_major`) and put it under
    tracking supervision: the first progress report is ordered at once, the next ones by the
    sweep every `every_n_working_days` until the case closes."""
    period = every_n_working_days
    if not isinstance(period, int) or not 1 <= period <= MAX_TRACKING_PERIOD:
        raise InvalidInput(
            _("报告周期应为 1 至 %(n)d 个工作日。") % {"n": MAX_TRACKING_PERIOD},
            fields={"every_n_working_days": [_("应为 1 至 %(n)d。") % {"n": MAX_TRACKING_PERIOD}]},
        )
    on = today or local_today()
    with transaction.atomic():
        locked = lock_case(case)
        department = supervising_department(locked, by)
        if department is None:
            raise NotAllowed(_("只有上级部门的督办人员可以对办理中的案件进行跟踪督办。"))
        if Tracking.objects.filter(case=locked, ended_at__isnull=True).exists():
            raise Conflict(_("该案件已在跟踪督办中。"))
        _mark_major(locked, by)
        tracking = Tracking.objects.create(
            case=locked,
            from_department=department,
            every_n_working_days=period,
            next_order_on=on,
            started_by=by,
            started_at=timezone.now(),
        )
        append_event(
            locked,
            action="tracking_start",
            by=by,
            department=department,
            visibility=Visibility.INTERNAL,
            data={"every_n_working_days": period},
        )
        raise_tracking_order(tracking.pk, today=on)
    tracking.refresh_from_db()
    return tracking


def _mark_major(case: Case, by: User) -> None:
    if case.is_major:
        return
    try:
        perform(case, "mark_major", by=by)
    except WorkflowError as exc:
        raise NotAllowed(exc.message) from exc


def raise_tracking_order(tracking_id: int, *, today: dt.date) -> SupervisionOrder | None:
    """Order the next progress report of a tracked case, due at the end of its period; the next
    order comes on that day. The period is claimed by a conditional update of `next_order_on`."""
    with transaction.atomic():
        tracking = Tracking.objects.select_related("case", "from_department").get(pk=tracking_id)
        case = lock_case(tracking.case)
        if not case.is_open or tracking.ended_at is not None or tracking.next_order_on > today:
            return None
        due = add_working_days(today, tracking.every_n_working_days)
        claimed = Tracking.objects.filter(
            pk=tracking.pk, ended_at__isnull=True, next_order_on=tracking.next_order_on
        ).update(next_order_on=due)
        if not claimed:
            return None
        holder = holding_unit(case)
        return raise_order(
            case,
            kind=OrderKind.TRACKING,
            from_department=_tracking_body(tracking, holder),
            to_department=holder,
            instructions=_("本案为重大疑难案件，请于 %(due)s 前报告办理进展。")
            % {"due": due.isoformat()},
            due=due,
            tracking=tracking,
        )


def _tracking_body(tracking: Tracking, holder: Department) -> Department:
    """The department that started tracking, while the case stays below it; if the case moved out
    of its jurisdiction, the body above the new holder."""
    body = tracking.from_department
    if holder.is_within(body) and holder.pk != body.pk:
        return body
    return superior_of(holder) or body
