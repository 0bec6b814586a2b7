"""A case as each caller may see it: the one shape the API, the portals and the workbench show.

What a caller sees depends on who they are to the case (`cases.access.viewer_of`):
- staff see everything, with officers' names, the unit actually holding the case and every event;
- the consumer and the business see only public events, and every unit by its public face: a
  station acts in its county bureau's name (o121 Art. 30), internal routing is left out (charter:
  分转流程不对社会公开), and an officer appears as the department, never by name;
- contact details are shown in full only to the consumer themself and to the unit holding or
  handling the case (`handles_case`); the business sees them masked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from django.db.models import Prefetch, QuerySet
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity import mask_phone
from accounts.models import User
from cases.access import (
    Viewer,
    case_units,
    handles_case,
    over_holder_or_handler,
    staff_paths,
    viewer_of,
)
from cases.categories import category_name
from cases.documents import agreement_url
from cases.models import Attachment, Case, CaseEvent, ClockKind, Deadline, Kind, Visibility
from cases.rules import SHANGHAI, local_date
from departments.models import Department
from parties.presenters import hidden_files, parties_payload

if TYPE_CHECKING:
    from cases.intake import Filing

# The agent (a complaint's, if any) and their power of attorney, and whether the filer is a
# representative of a joint complaint, come with the case's row.
_DETAIL_RELATED = (
    "department__parent",
    "handler_unit__parent",
    "respondent",
    "agent__power_of_attorney",
    "filer_representative",
)


def _detail_prefetches() -> list[Prefetch]:
    return [
        Prefetch(
            "events",
            queryset=CaseEvent.objects.select_related("actor", "department__parent").order_by(
                "seq"
            ),
        ),
        Prefetch("attachments", queryset=Attachment.objects.order_by("created_at")),
        Prefetch("deadlines", queryset=Deadline.objects.filter(cancelled=False).order_by("id")),
    ]


def with_details(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Everything `case_payload` reads, in five queries however long the timeline."""
    return cases.select_related(*_DETAIL_RELATED).prefetch_related(*_detail_prefetches())


def load_details(case: Case) -> Case:
    """`with_details` for a case already in hand (e.g. from `get_case_for`)."""
    return with_details(Case.objects.filter(pk=case.pk)).get()


def iso(moment: dt.datetime | None) -> str | None:
    """API times are ISO 8601 in Asia/Shanghai (+08:00)."""
    if moment is None:
        return None
    return timezone.localtime(moment, SHANGHAI).isoformat(timespec="seconds")


def department_ref(department: Department | None) -> dict[str, str] | None:
    if department is None:
        return None
    return {
        "code": department.code,
        "name": department.name,
        "level": department.level,
        "bureau": department.bureau_name,
    }


def party_label(kind: str) -> str:
    labels = {Kind.COMPLAINT: _("投诉人"), Kind.REPORT: _("举报人"), Kind.CONSULTATION: _("咨询人")}
    return str(labels[Kind(kind)])


def mask_address(address: str) -> str:
    """Enough to see the region, not enough to find the door."""
    return f"{address[:6]}****" if address else ""


# --- the case ---------------------------------------------------------------------------------


def case_payload(case: Case, user: User) -> dict[str, Any]:
    """The case as `user` may see it (API.md, "Case as returned"). Loads what it needs once."""
    if not _has_details(case):
        case = load_details(case)
    viewer = viewer_of(user, case)
    staff = viewer == Viewer.STAFF
    return {
        **_header(case, staff=staff),
        "respondent": _respondent(case),
        "category": case.category or None,
        "category_name": category_name(case.category) or None,
        "amount": f"{case.amount:.2f}" if case.amount is not None else None,
        "occurred_on": case.occurred_on.isoformat() if case.occurred_on else None,
        "facts": "" if case.kind == Kind.CONSULTATION else case.facts,
        "demand": case.demand,
        "question": case.facts if case.kind == Kind.CONSULTATION else None,
        "answer": case.answer or None,
        "notify_me": case.notify_me if case.kind == Kind.REPORT else None,
        "party": _party(case, user, viewer),
        **parties_payload(user, case, viewer),
        "attachments": _attachments(case, user, viewer),
        "deadlines": [_deadline(d) for d in case.deadlines.all() if staff or _is_public(d)],
        "timeline": _timeline(case, staff=staff),
        "allowed_actions": _allowed_actions(case, user, viewer),
        "rating": _rating(case),
        "agreement_pdf": agreement_url(case),
    }


def filed_payload(filing: Filing, user: User) -> dict[str, Any]:
    """The reply to a submission: `case_payload` of the case as GET shows it. A case this
    request filed is shown from the rows it wrote (they are all its rows), without reading
    them back; a replayed submission's case is read as usual."""
    case = filing.case
    if filing.event is not None and filing.clock is not None:
        _hold(case, "events", [filing.event])
        _hold(case, "attachments", sorted(filing.attachments, key=lambda a: a.created_at))
        _hold(case, "deadlines", [filing.clock])
        _hold(case, "co_complainants", filing.co_complainants)
        Case.agent.related.set_cached_value(case, filing.agent)  # type: ignore[attr-defined]
        Case.filer_representative.related.set_cached_value(  # type: ignore[attr-defined]
            case, filing.filer_representative
        )
    return case_payload(case, user)


def _hold(case: Case, name: str, rows: list[Any]) -> None:
    """Mark a relation of `case` loaded with `rows`, as prefetch_related would."""
    rows_seen = getattr(case, name).all()
    rows_seen._result_cache = rows
    rows_seen._prefetch_done = True
    case.__dict__.setdefault("_prefetched_objects_cache", {})[name] = rows_seen


def _has_details(case: Case) -> bool:
    cache = getattr(case, "_prefetched_objects_cache", {})
    return all(name in cache for name in ("events", "attachments", "deadlines"))


def _header(case: Case, *, staff: bool) -> dict[str, Any]:
    """The fields a list row and the full case share."""
    return {
        "number": case.number,
        "kind": case.kind,
        "status": case.status,
        "outcome": case.outcome or None,
        "rules": case.rules,
        "channel": case.channel,
        "department": department_ref(case.department if staff else case.public_department),
        "handler_unit": department_ref(case.handler_unit) if staff else None,
        "received_at": iso(case.received_at),
        "closed_at": iso(case.closed_at),
        # Marked by supervisors (mark_major, an internal step): staff only, like handler_unit.
        "is_major": case.is_major if staff else None,
        "version": case.version,
    }


def _respondent(case: Case) -> dict[str, Any] | None:
    if case.kind == Kind.CONSULTATION:
        return None
    platform = (
        {"name": case.platform_name, "address": case.platform_address}
        if case.platform_name or case.platform_address
        else None
    )
    return {
        "name": case.respondent_name,
        "uscc": case.respondent_uscc,
        "address": case.respondent_address,
        "platform": platform,
    }


def _party(case: Case, user: User, viewer: Viewer) -> dict[str, str]:
    """Full details for the consumer themself and the unit holding or handling the case; the
    phone masked for other staff (higher levels watch, they don't call); the business sees
    the name only with phone and address masked, and so does a department that sees the case
    only because an open authority dispute names it (it judges competence, it writes to
    nobody)."""
    own = case.consumer_id == user.pk
    full = own or (viewer == Viewer.STAFF and handles_case(user, case))
    stranger = viewer == Viewer.BUSINESS or (
        viewer == Viewer.STAFF and not own and not over_holder_or_handler(user, case)
    )
    return {
        "name": case.party_name,
        "phone": case.party_phone if full else mask_phone(case.party_phone),
        "address": mask_address(case.party_address) if stranger else case.party_address,
    }


def _attachments(case: Case, user: User, viewer: Viewer) -> list[dict[str, Any]]:
    """The case's files; a power of attorney only for those who may see the parties."""
    hidden = hidden_files(user, case, viewer)
    return [attachment_payload(a) for a in case.attachments.all() if a.pk not in hidden]


def attachment_payload(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": str(attachment.id),
        "name": attachment.name,
        "size": attachment.size,
        "content_type": attachment.content_type,
        "url": reverse("cases:attachment-download", kwargs={"attachment_id": attachment.id}),
    }


# Clocks about internal work (a clue handed to enforcement) are not the consumer's business.
# Clocks between the units, never shown to the consumer: the clue's verification and the
# settling of an authority dispute (internal routing, WORKFLOW.md "Stations and the public
# timeline").
INTERNAL_CLOCKS = frozenset({ClockKind.CLUE_VERIFY, ClockKind.SETTLE_AUTHORITY})


def _is_public(deadline: Deadline | OpenClock) -> bool:
    return deadline.kind not in INTERNAL_CLOCKS


def _is_overdue(deadline: Deadline | OpenClock, today: dt.date) -> bool:
    running = deadline.is_open and deadline.paused_since is None
    return deadline.overdue or (running and deadline.due < today)


def _deadline(deadline: Deadline | OpenClock, today: dt.date | None = None) -> dict[str, Any]:
    return {
        "kind": deadline.kind,
        "due": deadline.due.isoformat(),
        "met_at": iso(deadline.met_at),
        "overdue": _is_overdue(deadline, today or local_date(timezone.now())),
    }


def _rating(case: Case) -> dict[str, Any] | None:
    if case.satisfaction is None:
        return None
    return {
        "satisfaction": case.satisfaction,
        "resolved": case.resolved,
        "comment": case.rating_comment,
        "rated_at": iso(case.rated_at),
    }


def _allowed_actions(case: Case, user: User, viewer: Viewer) -> list[str]:
    from cases.workflow import allowed_actions

    return list(allowed_actions(case, user)) if viewer != Viewer.NONE else []


# --- the timeline -------------------------------------------------------------------------------


def _timeline(case: Case, *, staff: bool) -> list[dict[str, Any]]:
    events: Iterable[CaseEvent] = case.events.all()
    if staff:
        return [_staff_event(event) for event in events]
    return [_public_event(event, case) for event in events if event.visibility == Visibility.PUBLIC]


def _staff_event(event: CaseEvent) -> dict[str, Any]:
    return {
        "at": iso(event.at),
        "action": event.action,
        "by": event.actor.display_name if event.actor else str(_("系统")),
        "department": event.department.name if event.department else None,
        "note": event.note,
        "data": event.data,
        "visibility": event.visibility,
    }


def _public_event(event: CaseEvent, case: Case) -> dict[str, Any]:
    from cases.workflow import public_event_data

    unit = event.department.county_bureau if event.department else None
    return {
        "at": iso(event.at),
        "action": event.action,
        "by": _public_actor(event, case, unit),
        "department": unit.bureau_name if unit else None,
        "note": event.note,
        "data": public_event_data(event.action, case.kind, event.data),
        "visibility": event.visibility,
    }


def _public_actor(event: CaseEvent, case: Case, unit: Department | None) -> str:
    """Who acted, as the public may know it: the party by role, an officer by department."""
    actor = event.actor
    if actor is None:
        return str(_("系统"))
    if actor.pk == case.consumer_id:
        return party_label(case.kind)
    if actor.business_id is not None and actor.business_id == case.respondent_id:
        return str(_("被投诉经营者"))
    return (unit or case.public_department).bureau_name


# --- list rows ----------------------------------------------------------------------------------

# A row shows the facts cut to this many characters, with "…" when there is more.
SUMMARY_LENGTH = 80


def with_summary(cases: QuerySet[Case]) -> QuerySet[Case]:
    """What `case_summary` reads: two queries for a whole page."""
    open_clocks = Deadline.objects.filter(met_at__isnull=True, cancelled=False).order_by("due")
    return cases.select_related("department__parent", "handler_unit__parent").prefetch_related(
        Prefetch("deadlines", queryset=open_clocks, to_attr="open_clocks")
    )


def is_staff_over(user: User, case: Case) -> bool:
    """The staff test of `viewer_of`, from the user's cached paths (no query per row but for a
    disputed case's other department)."""
    units = case_units(case)
    return any(unit.path.startswith(path) for path in staff_paths(user) for unit in units)


def summary_text(facts: str) -> str:
    """The facts as a row shows them."""
    return f"{facts[:SUMMARY_LENGTH]}…" if len(facts) > SUMMARY_LENGTH else facts


def case_summary(case: Case, user: User, *, today: dt.date | None = None) -> dict[str, Any]:
    """One row of a case list: enough to pick the case and see what is due. A page of rows is
    `summary_rows`, the same dicts from three queries."""
    today = today or local_date(timezone.now())
    staff = is_staff_over(user, case)
    clocks: list[Deadline] = (
        case.open_clocks  # type: ignore[attr-defined]
        if hasattr(case, "open_clocks")
        else list(case.deadlines.filter(met_at__isnull=True, cancelled=False))
    )
    return {
        **_header(case, staff=staff),
        "respondent_name": case.respondent_name or None,
        "category": case.category or None,
        "summary": summary_text(case.facts),
        "deadlines": [_deadline(clock, today) for clock in clocks if staff or _is_public(clock)],
    }


# The columns `summary_rows` reads: no long text but the facts' first characters.
_ROW_COLUMNS = (
    "id",
    "number",
    "kind",
    "status",
    "outcome",
    "rules",
    "channel",
    "department_id",
    "handler_unit_id",
    "disputed_with_id",
    "received_at",
    "closed_at",
    "is_major",
    "version",
    "respondent_name",
    "category",
)


class OpenClock(NamedTuple):
    """An open clock as a row shows it (read by `_deadline` and `_is_public` like a Deadline)."""

    kind: str
    due: dt.date
    met_at: dt.datetime | None
    paused_since: dt.date | None
    overdue: bool
    cancelled: bool

    @property
    def is_open(self) -> bool:
        return self.met_at is None and not self.cancelled


def summary_rows(
    cases: QuerySet[Case], user: User, *, today: dt.date | None = None
) -> list[dict[str, Any]]:
    """`case_summary` of each case of a page (`cases`: sorted and sliced), from three queries
    and no model instance per row: the row columns with the facts cut in SQL, the units of the
    page (read each time: names are shown as they are now), the page's open clocks.
    tests/test_case_lists.py holds it equal to `case_summary` for every kind of viewer."""
    head = Substr("facts", 1, SUMMARY_LENGTH + 1)
    rows = list(cases.values(*_ROW_COLUMNS, facts_head=head))
    if not rows:
        return []
    units = _Units(rows, staff_paths(user))
    clocks = _open_clocks([row["id"] for row in rows])
    today = today or local_date(timezone.now())
    return [_summary_row(row, units, clocks.get(row["id"], ()), today) for row in rows]


def _summary_row(
    row: dict[str, Any], units: _Units, clocks: Iterable[OpenClock], today: dt.date
) -> dict[str, Any]:
    """`case_summary` of one row of `summary_rows` (the header as `_header` writes it)."""
    department, handler = row["department_id"], row["handler_unit_id"]
    disputed = row["disputed_with_id"]
    staff = (
        units.over(department)
        or (handler is not None and units.over(handler))
        or (disputed is not None and units.over(disputed))
    )
    return {
        "number": row["number"],
        "kind": row["kind"],
        "status": row["status"],
        "outcome": row["outcome"] or None,
        "rules": row["rules"],
        "channel": row["channel"],
        "department": units.ref(department) if staff else units.public_ref(handler or department),
        "handler_unit": units.ref(handler) if staff and handler is not None else None,
        "received_at": iso(row["received_at"]),
        "closed_at": iso(row["closed_at"]),
        "is_major": row["is_major"] if staff else None,
        "version": row["version"],
        "respondent_name": row["respondent_name"] or None,
        "category": row["category"] or None,
        "summary": summary_text(row["facts_head"]),
        "deadlines": [_deadline(clock, today) for clock in clocks if staff or _is_public(clock)],
    }


class _Units:
    """The units a page of rows names, with their parents, in one query; each unit's reference
    written once for the page, and whether the viewer is staff over it (`is_staff_over`)."""

    def __init__(self, rows: list[dict[str, Any]], paths: list[str]) -> None:
        codes = {
            code
            for row in rows
            for code in (row["department_id"], row["handler_unit_id"], row["disputed_with_id"])
        }
        found = Department.objects.filter(code__in=codes - {None}).select_related("parent")
        self._units = {unit.code: unit for unit in found}
        self._over = {
            code: any(unit.path.startswith(path) for path in paths)
            for code, unit in self._units.items()
        }
        self._refs: dict[str, dict[str, str] | None] = {}
        self._public_refs: dict[str, dict[str, str] | None] = {}

    def over(self, code: str) -> bool:
        return self._over[code]

    def ref(self, code: str) -> dict[str, str] | None:
        if code not in self._refs:
            self._refs[code] = department_ref(self._units[code])
        return self._refs[code]

    def public_ref(self, code: str) -> dict[str, str] | None:
        """The unit the public sees for a case held or handled by `code` (as
        `Case.public_department`: a station acts in its county bureau's name)."""
        if code not in self._public_refs:
            self._public_refs[code] = department_ref(self._units[code].county_bureau)
        return self._public_refs[code]


def _open_clocks(case_ids: list[int]) -> dict[int, list[OpenClock]]:
    """The open clocks of the cases, by case, soonest first (one query)."""
    clocks: dict[int, list[OpenClock]] = {}
    found = (
        Deadline.objects.filter(case_id__in=case_ids, met_at__isnull=True, cancelled=False)
        .order_by("due", "id")
        .values_list("case_id", *OpenClock._fields)
    )
    for case_id, *fields in found:
        clocks.setdefault(case_id, []).append(OpenClock(*fields))
    return clocks
