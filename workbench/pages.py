"""What the workbench pages show, shaped for the templates: tabs, sortable columns, rows, page
links, and the case page with one form per allowed action.

Links keep the query string (filters, sort) so that every view of a queue is a URL to share or
bookmark; changing a filter, the sort or the queue goes back to the first page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import QuerySet
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Membership, Role, User
from cases.categories import category_name
from cases.deadlines import last_due_soon_day
from cases.models import Case, Channel, ClockKind, Deadline, Kind, Outcome, Status, Visibility
from cases.presenters import case_payload
from cases.rules import local_date
from cases.workflow import (
    REJECTION_GROUND_LABELS,
    TERMINATION_GROUND_LABELS,
    action_spec,
    allowed_actions,
    dispute_superior_code,
)
from departments.models import Department
from workbench.forms import CHOICE_LABELS, ActionForm, action_form
from workbench.selectors import (
    COUNT_CAP,
    PAGE_SIZE,
    Queue,
    counts_as_list,
    is_capped,
)

# --- The desk: who works where ----------------------------------------------------------------


def role_labels(membership: Membership) -> str:
    labels = {value: str(label) for value, label in Role.choices}
    return "、".join(labels.get(role, role) for role in membership.roles)


@dataclass(frozen=True)
class Desk:
    memberships: list[Membership]
    active: Membership

    @property
    def several(self) -> bool:
        return len(self.memberships) > 1

    @property
    def roles(self) -> str:
        return role_labels(self.active)

    @property
    def choices(self) -> list[tuple[int, str, bool]]:
        """(membership id, "unit (roles)", is the active one) for the switcher."""
        return [
            (m.pk, f"{m.department.name}（{role_labels(m)}）", m.pk == self.active.pk)
            for m in self.memberships
        ]


# --- Queue page -------------------------------------------------------------------------------


def page_rows(cases: QuerySet[Case], bottom: int, top: int) -> list[Case]:
    """The rows [bottom, top) of a queue in its order: their keys first, from a read that names
    only the filter and sort columns (for the next-due sort of a subtree, `case_dept_status_due`
    answers it alone instead of every row of the queue being fetched to be sorted), then those
    rows by key."""
    keys = list(cases.values_list("pk", flat=True)[bottom:top])
    found = {case.pk: case for case in cases.filter(pk__in=keys).order_by()}
    return [found[key] for key in keys if key in found]


class CountedPaginator(Paginator):
    """A paginator told the total: the counts query has it already, no second COUNT."""

    def __init__(self, cases: QuerySet[Case], per_page: int, *, total: int) -> None:
        super().__init__(cases, per_page)
        self.cases = cases
        self._total = total

    @cached_property
    def count(self) -> int:
        return self._total

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        return Page(page_rows(self.cases, bottom, top), number, self)


class OpenEndedPaginator(Paginator):
    """For a queue past the count cap, whose total is not known: a page reads one row more than
    it shows to tell whether a next page exists; the total is the rows seen so far."""

    def __init__(self, cases: QuerySet[Case], per_page: int) -> None:
        super().__init__(cases, per_page)
        self.cases = cases
        self._seen = 0

    @property
    def count(self) -> int:  # type: ignore[override]
        return self._seen

    @property
    def num_pages(self) -> int:  # type: ignore[override]
        return -(-self._seen // self.per_page)

    def get_page(self, number: Any) -> Page:
        """The page asked for; the first for a page number that is not one or lies past the end."""
        text = str(number or "")
        wanted = int(text) if text.isdigit() and len(text) < 7 and int(text) > 0 else 1
        bottom = (wanted - 1) * self.per_page
        rows = page_rows(self.cases, bottom, bottom + self.per_page + 1)
        if not rows and wanted > 1:
            return self.get_page(1)
        self._seen = bottom + len(rows)
        return Page(rows[: self.per_page], wanted, self)

    page = get_page


def paginate(cases: QuerySet[Case], *, count: int, number: str | None) -> Page:
    if is_capped(count):
        return OpenEndedPaginator(cases, PAGE_SIZE).get_page(number)
    return CountedPaginator(cases, PAGE_SIZE, total=count).get_page(number)


def count_label(count: int) -> str:
    """A queue count as a tab shows it: "10,000+" past the cap."""
    return f"{cap_label()}+" if is_capped(count) else str(count)


def cap_label() -> str:
    return f"{COUNT_CAP:,}"


def _query(params: QueryDict, **changes: str | None) -> str:
    """The query string with `changes` applied (None removes a key); '' when nothing is left."""
    query = params.copy()
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else ""


@dataclass(frozen=True)
class Tab:
    queue: Queue
    label: str
    count: int
    href: str
    current: bool
    accesskey: str

    @property
    def shown(self) -> str:
        return count_label(self.count)


def queue_tabs(params: QueryDict, counts: Mapping[Queue, int], current: Queue) -> list[Tab]:
    query = _query(params, page=None)
    return [
        Tab(
            queue=queue,
            label=queue.label,
            count=count,
            href=reverse("staff:queue", args=[queue.value]) + query,
            current=queue == current,
            accesskey=str(position),
        )
        for position, (queue, count) in enumerate(counts_as_list(counts), start=1)
    ]


COLUMNS: tuple[tuple[str, Any], ...] = (
    ("number", _("案件编号")),
    ("kind", _("类型")),
    ("received_at", _("登记时间")),
    ("respondent", _("被投诉（举报）人")),
    ("category", _("类别")),
    ("unit", _("当前单位")),
    ("status", _("状态")),
    ("next_due", _("下一期限")),
)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    href: str
    aria_sort: str  # "ascending", "descending" or "" (not sorted by this column)


def columns(params: QueryDict, queue: Queue, sort: str) -> list[Column]:
    """Table headings; each links to sorting by it, and again to reverse the order."""
    result = []
    for key, label in COLUMNS:
        sorted_here = sort.lstrip("-") == key
        descending = sort.startswith("-")
        target = f"-{key}" if sorted_here and not descending else key
        aria = ("descending" if descending else "ascending") if sorted_here else ""
        href = reverse("staff:queue", args=[queue.value]) + _query(params, sort=target, page=None)
        result.append(Column(key=key, label=str(label), href=href, aria_sort=aria))
    return result


@dataclass(frozen=True)
class Row:
    """A table row with its texts written out: the template only prints them (a label looked up
    through the model per cell and row cost more than the rest of the page)."""

    case: Case
    href: str
    received_at: str
    kind: str
    status: str
    outcome: str
    category: str
    unit: str
    next_due: dt.date | None
    due_state: str  # "overdue", "due_soon" or ""
    dispute: str = ""  # where an open authority dispute stands (the disputes queue)


def _labels(choices: type[models.TextChoices]) -> dict[str, str]:
    """Each value's label in the active language."""
    return {value: str(label) for value, label in choices.choices}


def rows(
    cases: Iterable[Case], today: dt.date, *, disputes: Mapping[int, str] | None = None
) -> list[Row]:
    soon = last_due_soon_day(today)
    disputes = disputes or {}
    kinds, statuses, outcomes = _labels(Kind), _labels(Status), _labels(Outcome)
    result = []
    for case in cases:
        due: dt.date | None = getattr(case, "next_due", None)
        state = (
            "" if due is None else "overdue" if due < today else "due_soon" if due <= soon else ""
        )
        unit = case.handler_unit or case.department
        result.append(
            Row(
                case=case,
                href=reverse("staff:case", args=[case.number]),
                received_at=f"{timezone.localtime(case.received_at):%Y-%m-%d %H:%M}",
                kind=kinds.get(case.kind, case.kind),
                status=statuses.get(case.status, case.status),
                outcome=outcomes.get(case.outcome, case.outcome),
                category=category_name(case.category) or case.category,
                unit=unit.name,
                next_due=due,
                due_state=state,
                dispute=disputes.get(case.pk, ""),
            )
        )
    return result


# --- Authority disputes -----------------------------------------------------------------------


@dataclass(frozen=True)
class DisputeView:
    """An open authority dispute as the case page shows it (o121 Art. 33)."""

    raised_by: str
    named: str
    superior: str
    reason: str
    settle_due: dt.date | None
    stage: str


def _settle_dues(case_ids: Iterable[int]) -> dict[int, dt.date]:
    clocks = Deadline.objects.filter(
        case_id__in=list(case_ids),
        kind=ClockKind.SETTLE_AUTHORITY,
        met_at__isnull=True,
        cancelled=False,
    )
    return dict(clocks.values_list("case_id", "due"))


def _stage(
    *, named: str, refused: bool, due: dt.date | None, superior: str, viewer: str, today: dt.date
) -> str:
    """Who acts next on a dispute: the named department, or the common superior once the named
    one refused or the 7 working days passed."""
    if not (refused or (due is not None and due < today)):
        return str(_("待%(named)s答复") % {"named": named})
    if superior and superior == viewer:
        return str(_("待本单位指定管辖"))
    return str(_("待共同上级部门指定管辖"))


def dispute_stages(cases: Iterable[Case], viewer: Department, today: dt.date) -> dict[int, str]:
    """Where each open dispute among `cases` (a page of rows) stands, seen from `viewer`: two
    queries for the page."""
    ids = [case.pk for case in cases]
    disputed = list(
        Case.objects.filter(pk__in=ids, disputed_with__isnull=False)
        .select_related("department", "disputed_with")
        .only("dispute_refused", "department__path", "disputed_with__name", "disputed_with__path")
    )
    dues = _settle_dues(case.pk for case in disputed)
    return {
        case.pk: _stage(
            named=case.disputed_with.name if case.disputed_with else "",
            refused=case.dispute_refused,
            due=dues.get(case.pk),
            superior=dispute_superior_code(case) or "",
            viewer=viewer.code,
            today=today,
        )
        for case in disputed
    }


def dispute_view(case: Case, today: dt.date) -> DisputeView | None:
    """The open dispute on the case page: who raised it, whom it names, why, by when they must
    agree, and who designates."""
    named = case.disputed_with
    if named is None:
        return None
    superior_code = dispute_superior_code(case) or ""
    superior = Department.objects.filter(code=superior_code).values_list("name", flat=True)
    raised = case.events.filter(action="dispute").order_by("-seq").first()
    due = _settle_dues([case.pk]).get(case.pk)
    stage = _stage(
        named=named.name,
        refused=case.dispute_refused,
        due=due,
        superior=superior_code,
        viewer="",
        today=today,
    )
    return DisputeView(
        raised_by=case.department.name,
        named=named.name,
        superior=superior.first() or "",
        reason=raised.note if raised is not None else "",
        settle_due=due,
        stage=stage,
    )


@dataclass(frozen=True)
class PageLink:
    label: str
    href: str
    rel: str


def page_links(params: QueryDict, page: Page) -> list[PageLink]:
    links = []
    if page.has_previous():
        href = _query(params, page=str(page.previous_page_number()))
        links.append(PageLink(str(_("上一页")), href, "prev"))
    if page.has_next():
        links.append(
            PageLink(str(_("下一页")), _query(params, page=str(page.next_page_number())), "next")
        )
    return links


# --- Case page --------------------------------------------------------------------------------

# The step that moves a case on, when it is allowed: shown first and prominent.
PRIMARY_ORDER = (
    "accept",
    "answer",
    "dispatch",
    "start_mediation",
    "record_agreement",
    "decide",
    "resume",
    "designate",
)
DANGER = frozenset({"reject", "terminate", "mark_duplicate"})
EVENT_LABELS: dict[str, Any] = {"submit": pgettext_lazy("case event", "提交")}
# Event data shown on the timeline (other keys are bookkeeping: left out).
DATA_LABELS: dict[str, Any] = {
    "channel": _("渠道"),
    "handler_unit": _("承办单位"),
    "accepted_by": _("受理单位"),
    "department": _("接收部门"),
    "from": _("原所在单位"),
    "ground": _("依据"),
    "decision": _("决定"),
    "amount_recovered": _("挽回经济损失（元）"),
    "authority": _("有权处理的部门"),
    "of": _("重复的举报"),
    "kind": _("转为"),
    "new_case": _("新案件"),
    "converted_from": _("由咨询转来"),
    "referred_from": _("由投诉调解中移交（诉转案）"),
    "due": _("限期"),
    "superior": _("共同上级部门"),
    "satisfaction": _("满意度"),
    "resolved": _("问题是否解决"),
}
UNIT_KEYS = ("handler_unit", "accepted_by", "department", "from", "superior")
# Where an action gives a key another meaning than the table above.
ACTION_DATA_LABELS: dict[tuple[str, str], Any] = {
    ("dispute", "department"): _("认为有管辖权的部门"),
    ("designate", "department"): _("指定管辖的部门"),
}
GROUND_LABELS = {**REJECTION_GROUND_LABELS, **TERMINATION_GROUND_LABELS}


@dataclass(frozen=True)
class DeadlineView:
    label: str
    due: dt.date
    met_at: dt.datetime | None
    state: str  # "met", "overdue", "due_soon", "paused" or "running"


@dataclass(frozen=True)
class EventView:
    at: dt.datetime
    label: str
    by: str
    department: str
    note: str
    details: list[tuple[str, str]]
    internal: bool


def _deadline_views(case: Case, payload: dict[str, Any], today: dt.date) -> list[DeadlineView]:
    soon = last_due_soon_day(today)
    # Clocks paused on their own (the accept clock while an authority dispute is open), beside
    # those the case pauses for testing (`case.paused_since`).
    paused = set(
        Deadline.objects.filter(
            case=case, met_at__isnull=True, cancelled=False, paused_since__isnull=False
        ).values_list("kind", "due")
    )
    views = []
    for item in payload["deadlines"]:
        due = dt.date.fromisoformat(item["due"])
        met_at = dt.datetime.fromisoformat(item["met_at"]) if item["met_at"] else None
        if met_at is not None:
            state = "met"
        elif item["overdue"]:
            state = "overdue"
        elif case.paused_since is not None or (item["kind"], due) in paused:
            state = "paused"
        else:
            state = "due_soon" if due <= soon else "running"
        label = ClockKind(item["kind"]).label if item["kind"] in ClockKind.values else item["kind"]
        views.append(DeadlineView(str(label), due, met_at, state))
    return views


def _value_text(key: str, value: Any, units: Mapping[str, str], case: Case) -> str:
    if key in UNIT_KEYS and isinstance(value, str):
        return units.get(value, value)
    if key == "ground":
        return str(GROUND_LABELS.get(value, value))
    if key in ("decision", "kind"):
        return str(CHOICE_LABELS[key].get(value, value))
    if key == "channel":
        return str(dict(Channel.choices).get(value, value))
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    return str(value)


def _event_views(case: Case, payload: dict[str, Any]) -> list[EventView]:
    events = payload["timeline"]
    codes = {
        event["data"][key]
        for event in events
        for key in UNIT_KEYS
        if isinstance(event["data"].get(key), str)
    }
    units = dict(Department.objects.filter(code__in=codes).values_list("code", "name"))
    views = []
    for event in events:
        spec = action_spec(case.kind, event["action"])
        label = spec.label if spec else EVENT_LABELS.get(event["action"], event["action"])
        details = [
            (
                str(ACTION_DATA_LABELS.get((event["action"], key), DATA_LABELS.get(key, key))),
                _value_text(key, value, units, case),
            )
            for key, value in event["data"].items()
            if key in DATA_LABELS and value not in (None, "", [])
        ]
        views.append(
            EventView(
                at=dt.datetime.fromisoformat(event["at"]),
                label=str(label),
                by=event["by"],
                department=event["department"] or "",
                note=event["note"],
                details=details,
                internal=event.get("visibility") == Visibility.INTERNAL,
            )
        )
    return views


def _action_forms(case: Case, user: User, bound: ActionForm | None) -> list[ActionForm]:
    """One form per action this user may take now; the submitted one keeps its input."""
    forms = []
    for action in allowed_actions(case, user):
        form = bound if bound is not None and bound.spec.name == action else None
        form = form or action_form(case, action)
        if form is not None:
            forms.append(form)
    return forms


def case_context(case: Case, user: User, *, bound: ActionForm | None = None) -> dict[str, Any]:
    """The case as staff see it, and one form per action this user may take now."""
    today = local_date(timezone.now())
    payload = case_payload(case, user)
    forms = _action_forms(case, user, bound)
    primary = next((f for name in PRIMARY_ORDER for f in forms if f.spec.name == name), None)
    return {
        "case": case,
        "payload": payload,
        "deadlines": _deadline_views(case, payload, today),
        "events": _event_views(case, payload),
        "primary": primary,
        "others": [form for form in forms if form is not primary],
        "danger": DANGER,
        "open_form": bound.spec.name if bound is not None else "",
        "dispute": dispute_view(case, today),
    }
