"""The public home page and the consumer's own cases: the list, the case page and the actions a
consumer may take on it (withdraw, supplement, rate), each through `cases.services.perform`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from cases import evidence
from cases.access import cases_visible_to, get_case_for
from cases.models import Case
from cases.presenters import case_payload, case_summary, with_summary
from cases.services import InvalidAction, InvalidParams, StaleVersion, perform
from portal import display
from portal.forms import ACTION_FORMS, ActionForm
from portal.guidance import KIND_INTRO, next_steps

CASES_PER_PAGE = 20
DONE_MESSAGES = {
    "withdraw": lambda: _("已撤回。"),
    "supplement": lambda: _("补充材料已提交。"),
    "rate": lambda: _("感谢您的评价。"),
}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html", {"nav": "home", "intro": KIND_INTRO})


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    cases = with_summary(cases_visible_to(user).filter(consumer=user)).order_by(
        "-received_at", "-id"
    )
    page = Paginator(cases, CASES_PER_PAGE).get_page(request.GET.get("page"))
    rows = [display.case_row(case_summary(case, user)) for case in page]
    return render(request, "portal/my_cases.html", {"nav": "my_cases", "page": page, "rows": rows})


def _own_case(request: HttpRequest, number: str) -> Case:
    """The consumer's own case; staff who may see it use the workbench instead."""
    user = _user(request)
    case = get_case_for(user, number)
    if case.consumer_id != user.pk:
        raise Http404(number)
    return case


@login_required
def my_case(request: HttpRequest, number: str) -> HttpResponse:
    return _case_page(request, _own_case(request, number))


def _case_page(
    request: HttpRequest, case: Case, bound: dict[str, ActionForm] | None = None
) -> HttpResponse:
    payload = case_payload(case, _user(request))
    allowed = [name for name in ACTION_FORMS if name in payload["allowed_actions"]]
    # Unbound forms need no version: the page sends the version it was rendered with.
    action_forms = {name: (bound or {}).get(name) or ACTION_FORMS[name]() for name in allowed}
    context: dict[str, Any] = {
        "nav": "my_cases",
        "case": payload,
        "kind_label": display.kind_label(payload["kind"]),
        "status_label": display.status_label(payload["status"], payload["outcome"]),
        "received_at": display.moment(payload["received_at"]),
        "closed_at": display.moment(payload["closed_at"]),
        "next_steps": next_steps(payload["kind"], payload["status"], payload["rules"]),
        "deadlines": display.deadline_rows(payload["deadlines"]),
        "next_deadline": display.next_deadline(payload["deadlines"]),
        "timeline": display.timeline_rows(payload["kind"], payload["timeline"]),
        "action_forms": action_forms,
        "open_action": next(iter(bound)) if bound else None,
    }
    return render(request, "portal/case.html", context)


@login_required
@require_POST
def case_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    if action not in ACTION_FORMS:
        raise Http404(action)
    case = _own_case(request, number)
    form = ACTION_FORMS[action](request.POST, request.FILES)
    if not form.is_valid():
        return _case_page(request, case, {action: form})
    params = form.params()
    if "evidence" in form.fields:
        upload_errors = _store_files(request, params)
        if upload_errors:
            for message in upload_errors:
                form.add_error("evidence", message)
            return _case_page(request, case, {action: form})
    try:
        perform(case, action, by=_user(request), version=form.cleaned_data["version"], **params)
    except StaleVersion as exc:
        messages.error(request, exc.message)
        return _case_page(request, case, {action: form})
    except InvalidAction as exc:
        messages.error(request, exc.message)
        return redirect("my_case", number=case.number)
    except InvalidParams as exc:
        for name, problems in exc.fields.items():
            for problem in problems:
                form.add_error(name if name in form.fields else None, problem)
        return _case_page(request, case, {action: form})
    messages.success(request, DONE_MESSAGES[action]())
    return redirect("my_case", number=case.number)


def _store_files(request: HttpRequest, params: dict[str, Any]) -> list[str]:
    """Upload the supplement's files; their ids go to `perform`, which attaches them."""
    ids, errors = [], []
    for uploaded in request.FILES.getlist("evidence"):
        try:
            attachment = evidence.store_upload(owner=_user(request), uploaded_file=uploaded)
        except evidence.EvidenceError as exc:
            errors.append(_("%(name)s：%(problem)s") % {"name": uploaded.name, "problem": exc})
            continue
        ids.append(str(attachment.id))
    if ids:
        params["attachments"] = ids
    return errors
