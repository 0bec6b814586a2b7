"""The hotline desk (12315坐席): a call, a letter or a visit entered on the caller's behalf.

One dense page, no wizard: an agent types while the caller talks. The case is filed by
`cases.intake.submit_case`, the same path as the web form and the API, with the caller as
`on_behalf_of` and the channel and receipt time the agent records. The page's hidden token is the
idempotency key, so a double click or a resent form files one case. "查找管辖部门" re-renders the
page with the competent county departments for the addresses typed, and files nothing; so does
"再添加一位共同投诉人", with one more row (no JavaScript needed).

A complaint may be joint (o121 Art. 12) or made through an agent (Art. 11). The agent's power of
attorney is the one file the desk takes: scanned from a letter or a visit, it is kept as the
agent's unused upload the moment it is sent (the page carries its id, as the web form's draft
does) and claimed for the case by intake, in the case's transaction. Intake refuses an agent
without one, here as on the web and the API: an agent who only says on the phone that they hold
one is not recorded as the agent until the document arrives.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import User
from cases import evidence, idempotency
from cases.access import memberships_over
from cases.idempotency import IdempotencyMismatch
from cases.intake import (
    IntakeError,
    IntakeForbidden,
    clean_submission,
    is_hotline_agent,
    submit_case,
)
from cases.models import Attachment, Case, ClockKind, Kind
from cases.rules import rules_for
from departments.jurisdiction import AmbiguousAddress, suggest_jurisdictions
from departments.models import Department
from parties.intake import POWER_OF_ATTORNEY_TYPES
from parties.presenters import agent_of, filer_is_representative
from workbench import pages
from workbench.hotline_forms import (
    MAX_CO_ROWS,
    OTHER_DEPARTMENT,
    YES,
    HotlineForm,
    KeptDocument,
    received_moment,
    rows_shown,
)
from workbench.selectors import active_membership, memberships_of
from workbench.views import SESSION_KEY

LOOKUP = "lookup"
ADD_ROW = "add_row"
# Sent by the page, but decided by the view: never shown again as typed.
DOCUMENT_INPUTS = ("power_of_attorney_id", "drop_power_of_attorney")
FIRST_CLOCKS = (ClockKind.ACCEPT, ClockKind.ANSWER)


def _agent(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not is_hotline_agent(user):
        raise PermissionDenied(_("来电登记仅供12315坐席使用。"))
    return user


def _desk(request: HttpRequest, user: User) -> pages.Desk:
    memberships = memberships_of(user)
    active = active_membership(memberships, request.session.get(SESSION_KEY))
    if active is None:  # an agent holds the role through a membership
        raise PermissionDenied(_("来电登记仅供12315坐席使用。"))
    return pages.Desk(memberships, active)


@login_required
@require_http_methods(["GET", "POST"])
def hotline(request: HttpRequest) -> HttpResponse:
    user = _agent(request)
    if request.method == "GET":
        return _render(request, user, HotlineForm(), token=idempotency.issue_form_token())
    document = _kept_document(request, user)
    op = request.POST.get("op")
    if op == LOOKUP:
        form = HotlineForm(initial=_typed(request.POST, document), document=document)
        return _render(request, user, form, token=_token(request), looked_up=True)
    if op == ADD_ROW:
        return _add_row(request, user, document)
    return _file(request, user, document)


def _typed(data: Mapping[str, Any], document: KeptDocument) -> dict[str, Any]:
    """What the agent typed, to show again as it was (a lookup validates nothing)."""
    skip = {"csrfmiddlewaretoken", "token", "op", *DOCUMENT_INPUTS}
    typed = {name: data.get(name) for name in data if name not in skip}
    return {**typed, "power_of_attorney_id": document.id}


def _add_row(request: HttpRequest, user: User, document: KeptDocument) -> HttpResponse:
    """One more co-complainant row, the cursor in it; nothing is checked or filed."""
    shown = rows_shown(request.POST.get("co_rows"))
    if shown >= MAX_CO_ROWS:
        messages.error(request, _("共同投诉人最多%(n)d人。") % {"n": MAX_CO_ROWS})
    typed = {**_typed(request.POST, document), "co_rows": str(min(shown + 1, MAX_CO_ROWS))}
    form = HotlineForm(initial=typed, document=document)
    form.focus_row(form.row_count - 1)
    return _render(request, user, form, token=_token(request))


# --- the power of attorney ---------------------------------------------------------------------


def _kept_document(request: HttpRequest, user: User) -> KeptDocument:
    """The power of attorney the page carries: a file sent now is checked and stored at once as
    the agent's unused upload, replacing the one kept; "drop" forgets the kept one (unused, it is
    removed with the other unused uploads after a day)."""
    carried, drop = (request.POST.get(name) for name in DOCUMENT_INPUTS)
    previous = _known_document(user, "" if drop else carried or "")
    if getattr(request, "evidence_too_large", False):
        return KeptDocument(previous.id, previous.name, problem=str(evidence.too_large()))
    uploaded = request.FILES.get("power_of_attorney")
    if uploaded is None:
        return previous
    problem = _document_problem(uploaded)
    if problem is None:
        try:
            stored = evidence.store_upload(owner=user, uploaded_file=uploaded)
        except evidence.EvidenceError as exc:
            problem = str(exc)
        else:
            return KeptDocument(str(stored.id), stored.name)
    return KeptDocument(previous.id, previous.name, problem)


def _document_problem(uploaded: UploadedFile) -> str | None:
    """Why the file sent cannot be a power of attorney (an image or a PDF of at most 20 MB),
    checked before anything is stored; None when it can."""
    try:
        file_type = evidence.check_upload(uploaded)
    except evidence.UnsupportedType:
        return _("授权委托书应为图片或PDF文件。")
    except evidence.EvidenceError as exc:
        return str(exc)
    if file_type.content_type not in POWER_OF_ATTORNEY_TYPES:
        return _("授权委托书应为图片或PDF文件。")
    return None


def _known_document(user: User, value: str) -> KeptDocument:
    """The id the page carried, if it is an upload id; its name if it is still the agent's unused
    upload (otherwise intake says what is wrong with it when the form is sent)."""
    try:
        upload_id = str(uuid.UUID(value))
    except ValueError:
        return KeptDocument()
    found = Attachment.objects.filter(pk=upload_id, owner=user, case__isnull=True)
    return KeptDocument(upload_id, found.values_list("name", flat=True).first() or "")


def _token(request: HttpRequest) -> str:
    """The page's token as sent, or a fresh one when it is missing or unusable."""
    try:
        token = idempotency.clean_key(request.POST.get("token", ""))
    except idempotency.InvalidKey:
        token = None
    return token or idempotency.issue_form_token()


# --- filing ----------------------------------------------------------------------------------


def _file(request: HttpRequest, user: User, document: KeptDocument) -> HttpResponse:
    data = request.POST.copy()
    data.pop(DOCUMENT_INPUTS[1], None)
    data[DOCUMENT_INPUTS[0]] = document.id
    form = HotlineForm(data, document=document)
    token = _token(request)
    if token != request.POST.get("token"):
        form.add_error(None, _("登记表已过期，请核对内容后再次提交。"))
        return _render(request, user, form, token=token, status=422)
    if not form.is_valid():
        _add_intake_problems(form, user)
        return _render(request, user, form, token=token, status=422)
    try:
        case = submit_case(
            kind=form.cleaned_data["kind"], by=user, payload=form.payload(), idempotency_key=token
        )
    except IntakeError as exc:
        form.add_intake_errors(exc.fields)
        return _render(request, user, form, token=token, status=422)
    except IntakeForbidden as exc:
        raise PermissionDenied(str(exc)) from None
    except IdempotencyMismatch as exc:
        messages.warning(
            request,
            _("这张登记表已提交过（编号 %(number)s），未重复登记。登记新的诉求请重新打开登记页。")
            % {"number": exc.case.number},
        )
        return _after_filing(user, exc.case)
    messages.success(request, _filed_message(case))
    return _after_filing(user, case)


def _add_intake_problems(form: HotlineForm, user: User) -> None:
    """The form failed a shape check: also show what intake would refuse in the rest, so the
    agent sees every problem at once. Nothing is filed."""
    kind = form.cleaned_data.get("kind")
    if kind not in Kind.values:
        return
    try:
        clean_submission(kind=kind, by=user, payload=form.payload())
    except IntakeError as exc:
        form.add_intake_errors(exc.fields)
    except IntakeForbidden as exc:
        raise PermissionDenied(str(exc)) from None


def _filed_message(case: Case) -> str:
    clock = (
        case.deadlines.filter(kind__in=FIRST_CLOCKS, met_at__isnull=True, cancelled=False)
        .order_by("due")
        .first()
    )
    values = {"kind": case.get_kind_display(), "number": case.number}
    if clock is None:
        return _("已登记%(kind)s，编号 %(number)s。") % values + _parties_note(case)
    return _("已登记%(kind)s，编号 %(number)s，%(clock)s至 %(due)s。") % {
        **values,
        "clock": clock.get_kind_display(),
        "due": clock.due.isoformat(),
    } + _parties_note(case)


def _parties_note(case: Case) -> str:
    """What the confirmation reads back about the other parties: how many, never who (the
    message may travel in a cookie; the case page lists them, masked)."""
    if case.kind != Kind.COMPLAINT:
        return ""
    note = ""
    people = list(case.co_complainants.all())  # type: ignore[attr-defined]
    if people:
        representatives = sum(person.is_representative for person in people)
        note += _("共同投诉人%(n)d人（其中代表人%(reps)d人）。") % {
            "n": len(people),
            "reps": representatives,
        }
        if filer_is_representative(case):
            note += _("来电人担任代表人。")
    if agent_of(case) is not None:
        note += _("已登记委托代理人，授权委托书已存入证据材料。")
    return note


def _after_filing(user: User, case: Case) -> HttpResponse:
    """The staff case page when the agent's unit holds the case; otherwise (filed with another
    county) a fresh desk, the message carrying the number."""
    if memberships_over(user, case):
        return redirect("staff:case", number=case.number)
    return redirect("staff:hotline")


# --- department suggestions ------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    code: str
    name: str
    basis: str
    legal_basis: str


@dataclass
class Offer:
    """The competent departments for the addresses typed, and why an address gave none."""

    asked: bool = False
    choices: list[Choice] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, department: Department, basis: str, legal_basis: str) -> None:
        if all(choice.code != department.code for choice in self.choices):
            self.choices.append(Choice(department.code, department.name, basis, legal_basis))


def department_offer(values: Mapping[str, Any]) -> Offer:
    """Suggestions by the jurisdiction rules in force on the receipt date, from the respondent's
    address and, for a purchase on a platform, the platform's."""
    online = values.get("online") == YES
    respondent = str(values.get("respondent_address") or "").strip()
    platform = str(values.get("platform_address") or "").strip() if online else ""
    offer = Offer(asked=bool(respondent or platform))
    if not offer.asked:
        return offer
    kind = values.get("kind")
    suggestions = suggest_jurisdictions(
        rules=rules_for(received_moment(values.get("received_at"))),
        kind=str(kind) if kind in Kind.values else Kind.COMPLAINT,
        respondent_address=respondent,
        platform_address=platform or None,
        seller_on_platform=online,
    )
    for suggestion in suggestions:
        basis = str(suggestion.basis.label)
        if suggestion.department is not None:
            offer.add(suggestion.department, basis, suggestion.legal_basis)
            continue
        problem = suggestion.problem
        if problem is None:
            continue
        offer.problems.append(
            _("%(address)s：%(problem)s")
            % {"address": suggestion.address_role.label, "problem": problem.message}
        )
        if isinstance(problem, AmbiguousAddress):
            for department in problem.candidates:
                offer.add(department, basis, suggestion.legal_basis)
    return offer


def _selected(values: Mapping[str, Any], offer: Offer) -> str:
    """The radio to check: the one chosen if still offered; the suggestion matching a typed code;
    "other" for any other typed code; otherwise the first suggestion."""
    chosen = str(values.get("department") or "")
    typed = str(values.get("department_code") or "").strip()
    codes = [choice.code for choice in offer.choices]
    if chosen == OTHER_DEPARTMENT or chosen in codes:
        return chosen
    if typed in codes:
        return typed
    if typed or not codes:
        return OTHER_DEPARTMENT
    return codes[0]


# --- the page --------------------------------------------------------------------------------


def _render(
    request: HttpRequest,
    user: User,
    form: HotlineForm,
    *,
    token: str,
    looked_up: bool = False,
    status: int = 200,
) -> HttpResponse:
    values: Mapping[str, Any] = form.data if form.is_bound else form.initial
    offer = department_offer(values)
    context = {
        "desk": _desk(request, user),
        "form": form,
        "token": token,
        "offer": offer,
        "selected_department": _selected(values, offer),
        "other_department": OTHER_DEPARTMENT,
        "looked_up": looked_up,
    }
    return render(request, "workbench/hotline.html", context, status=status)
