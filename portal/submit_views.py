"""The step-by-step submission of complaints, reports and consultations.

Each step is a page with one topic (it works without JavaScript and fits a phone); what the
consumer types is kept in the session draft, valid or not. Only the confirm step files the case,
through `cases.intake.submit_case`, with the draft's token as the idempotency key.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from cases import evidence
from cases.access import cases_visible_to
from cases.categories import category_name
from cases.idempotency import IdempotencyMismatch
from cases.intake import IntakeError, IntakeForbidden, submit_case
from departments.models import Department
from parties.intake import POWER_OF_ATTORNEY_TYPES
from portal import submission
from portal.candidates import offer_for, place_name
from portal.drafts import (
    Draft,
    discard_draft,
    load_draft,
    remember_submission,
    save_draft,
    submitted_number,
)
from portal.forms import MAX_CO_ROWS, DepartmentForm, PartiesForm, StepForm
from portal.guidance import KIND_INTRO
from portal.submission import CONFIRM, DEPARTMENT, PARTIES, STEPS, Step

POWER_OF_ATTORNEY_NAME = "power_of_attorney_name"  # the kept document's name, shown again
URL_PREFIX = {"complaint": "complaints", "report": "reports", "consultation": "consultations"}


def step_url(kind: str, step: Step) -> str:
    first = STEPS[kind][0]
    if step == first:
        return reverse(f"{kind}_new")
    return reverse(f"{kind}_step", kwargs={"step": step.slug})


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
def submit(request: HttpRequest, kind: str, step: str | None = None) -> HttpResponse:
    current = submission.step_named(kind, step)
    if current is None:
        raise Http404(step)
    draft = load_draft(request.session, kind)
    if request.method == "POST":
        return _post(request, draft, current)
    if current.slug == CONFIRM and (missing := _first_invalid_step(draft)) is not None:
        draft.visit(missing.slug)
        save_draft(request.session, draft)
        return redirect(step_url(kind, missing))
    return _show(request, draft, current, _form_from_draft(draft, current, request))


# --- showing a step ------------------------------------------------------------------------


def _form_from_draft(draft: Draft, step: Step, request: HttpRequest) -> StepForm:
    """Bound to what was typed when the consumer already sent this step (so its problems show);
    otherwise prefilled with it."""
    if step.slug in draft.visited or any(name in draft.errors for name in step.error_names):
        form = step.form(draft.kind, data=draft.data)
        form.is_valid()
        _add_intake_errors(form, draft.errors, step)
        return form
    initial = {**_defaults(draft, step, request), **draft.data}
    return step.form(draft.kind, initial=initial)


def _defaults(draft: Draft, step: Step, request: HttpRequest) -> dict[str, str]:
    if step.slug != CONFIRM:
        return {}
    user = _user(request)
    last_address = (
        cases_visible_to(user)
        .filter(consumer=user)
        .exclude(party_address="")
        .values_list("party_address", flat=True)
        .first()
    )
    return {"contact_address": last_address or ""}


def _add_intake_errors(form: StepForm, errors: dict[str, list[str]], step: Step) -> None:
    names = [*step.error_names, submission.ALL_ERRORS] if step.slug == CONFIRM else step.error_names
    for name in names:
        for message in errors.get(name, []):
            form.add_error(name if name in form.fields else None, message)


def _show(request: HttpRequest, draft: Draft, step: Step, form: StepForm) -> HttpResponse:
    kind = draft.kind
    before, _after = submission.neighbours(kind, step)
    context: dict[str, Any] = {
        "nav": kind,
        "kind": kind,
        "kind_title": submission.KIND_TITLES[kind],
        "kind_intro": KIND_INTRO[kind],
        "step": step,
        "form": form,
        "draft": draft,
        "steps": _step_links(draft, step),
        "back_url": step_url(kind, before) if before else None,
        "action_url": step_url(kind, step),
    }
    if step.slug == DEPARTMENT:
        context.update(_department_context(draft))
    if step.slug == CONFIRM:
        context.update(_summary_context(draft))
    return render(request, f"portal/submit/{step.slug}.html", context)


def _step_links(draft: Draft, current: Step) -> list[dict[str, Any]]:
    steps = STEPS[draft.kind]
    position = steps.index(current)
    return [
        {
            "number": index + 1,
            "title": step.title,
            "url": step_url(draft.kind, step),
            "current": step == current,
            "done": index < position or step.slug in draft.visited,
            "reachable": index <= position or step.slug in draft.visited,
        }
        for index, step in enumerate(steps)
    ]


def _department_context(draft: Draft) -> dict[str, Any]:
    offer = offer_for(draft.kind, draft.data)
    codes = [candidate.code for candidate in offer.candidates]
    chosen = draft.data.get("department", "")
    if chosen != DepartmentForm.OTHER and chosen not in codes:
        chosen = codes[0] if codes else DepartmentForm.OTHER
    return {
        "offer": offer,
        "selected": chosen,
        "other_value": DepartmentForm.OTHER,
        "children_url": reverse("api:department_children", kwargs={"code": "__code__"}),
    }


def _summary_context(draft: Draft) -> dict[str, Any]:
    cleaned = _cleaned_steps(draft)
    code = cleaned.get("department") if cleaned else None
    department = Department.objects.filter(code=code).first() if code else None
    return {
        "summary": cleaned or {},
        "department": department,
        "department_place": place_name(department) if department else "",
        "category_name": category_name((cleaned or {}).get("category") or ""),
        "step_urls": {step.slug: step_url(draft.kind, step) for step in STEPS[draft.kind]},
    }


def _cleaned_steps(draft: Draft) -> dict[str, Any] | None:
    """The cleaned values of every step before confirm; None when one of them is not valid."""
    cleaned: dict[str, Any] = {}
    for step in STEPS[draft.kind][:-1]:
        form = step.form(draft.kind, data=draft.data)
        if not form.is_valid():
            return None
        cleaned.update(form.cleaned_data)
    return cleaned


def _first_invalid_step(draft: Draft) -> Step | None:
    for step in STEPS[draft.kind][:-1]:
        if not step.form(draft.kind, data=draft.data).is_valid():
            return step
    return None


# --- sending a step ------------------------------------------------------------------------


def _post(request: HttpRequest, draft: Draft, step: Step) -> HttpResponse:
    action = request.POST.get("nav", "next")
    if action == "discard":
        discard_draft(request.session, draft.kind)
        messages.info(request, _("已清空填写的内容，可以重新开始。"))
        return redirect(step_url(draft.kind, STEPS[draft.kind][0]))
    if step.slug == CONFIRM and action == "next":
        return _confirm(request, draft, step)
    form = step.form(draft.kind, data=request.POST, files=request.FILES)
    draft.update(form.raw_values())
    draft.clear_errors(step.error_names)
    upload_errors = _take_files(request, draft) if step.takes_files else []
    if step.slug == PARTIES:
        upload_errors = _take_power_of_attorney(request, draft)
    return _move(request, draft, step, form, action, upload_errors)


def _move(
    request: HttpRequest,
    draft: Draft,
    step: Step,
    form: StepForm,
    action: str,
    upload_errors: list[str],
) -> HttpResponse:
    before, after = submission.neighbours(draft.kind, step)
    if action == "back" and before is not None:
        save_draft(request.session, draft)
        return redirect(step_url(draft.kind, before))
    if action == "lookup":
        if not str(form.data.get("lookup_address", "")).strip():
            messages.error(request, _("请填写要查找的地址。"))
        draft.forget_visit(step.slug)
        save_draft(request.session, draft)
        return redirect(step_url(draft.kind, step))
    if action == "add_row" and step.slug == PARTIES:
        return _add_row(request, draft, step, form)
    draft.visit(step.slug)
    save_draft(request.session, draft)
    valid = form.is_valid()
    for message in upload_errors:
        form.add_error("power_of_attorney" if step.slug == PARTIES else "evidence", message)
    if not valid or upload_errors or after is None:
        return _show(request, draft, step, form)
    return redirect(step_url(draft.kind, after))


def _take_files(request: HttpRequest, draft: Draft) -> list[str]:
    """Keep new evidence at once (a file input cannot be refilled), drop what was unticked."""
    if request.POST.get("attachments_shown"):
        kept = set(request.POST.getlist("keep_attachment"))
        draft.attachments = [item for item in draft.attachments if str(item["id"]) in kept]
    errors = []
    for uploaded in request.FILES.getlist("evidence"):
        try:
            attachment = evidence.store_upload(owner=_user(request), uploaded_file=uploaded)
        except evidence.EvidenceError as exc:
            errors.append(_("%(name)s：%(problem)s") % {"name": uploaded.name, "problem": exc})
            continue
        draft.attachments.append(
            {"id": str(attachment.id), "name": attachment.name, "size": attachment.size}
        )
    return errors


def _add_row(request: HttpRequest, draft: Draft, step: Step, form: StepForm) -> HttpResponse:
    """One more co-complainant row (no JavaScript needed), up to the limit."""
    assert isinstance(form, PartiesForm)
    if form.row_count >= MAX_CO_ROWS:
        messages.error(request, _("共同投诉人最多%(n)d人。") % {"n": MAX_CO_ROWS})
    draft.update({"co_rows": str(min(form.row_count + 1, MAX_CO_ROWS))})
    draft.forget_visit(step.slug)
    save_draft(request.session, draft)
    return redirect(step_url(draft.kind, step))


def _take_power_of_attorney(request: HttpRequest, draft: Draft) -> list[str]:
    """Keep a new power of attorney at once (it replaces the one kept), or drop the kept one."""
    if request.POST.get("drop_power_of_attorney"):
        for key in (submission.POWER_OF_ATTORNEY, POWER_OF_ATTORNEY_NAME):
            draft.data.pop(key, None)
    uploaded = request.FILES.get("power_of_attorney")
    if uploaded is None:
        return []
    try:
        document = evidence.store_upload(owner=_user(request), uploaded_file=uploaded)
    except evidence.EvidenceError as exc:
        return [str(exc)]
    if document.content_type not in POWER_OF_ATTORNEY_TYPES:
        return [_("授权委托书应为图片或PDF文件。")]
    draft.update(
        {submission.POWER_OF_ATTORNEY: str(document.id), POWER_OF_ATTORNEY_NAME: document.name}
    )
    return []


# --- filing --------------------------------------------------------------------------------


def _confirm(request: HttpRequest, draft: Draft, step: Step) -> HttpResponse:
    token = request.POST.get("token", "")
    number = submitted_number(request.session, token)
    if number:
        messages.info(request, _("该诉求已经提交，无需重复提交。"))
        return redirect("my_case", number=number)
    form = step.form(draft.kind, data=request.POST)
    draft.update({"contact_address": form.raw_values()["contact_address"]})
    draft.clear_errors([*step.error_names, submission.ALL_ERRORS])
    draft.visit(step.slug)
    save_draft(request.session, draft)
    if not form.is_valid():
        return _show(request, draft, step, form)
    if token != draft.token:
        messages.warning(request, _("表单已过期，请核对内容后再次提交。"))
        return redirect(step_url(draft.kind, step))
    missing = _first_invalid_step(draft)
    if missing is not None:
        draft.visit(missing.slug)
        save_draft(request.session, draft)
        messages.error(request, _("请先完成“%(step)s”这一步。") % {"step": missing.title})
        return redirect(step_url(draft.kind, missing))
    return _file(request, draft, form)


def _file(request: HttpRequest, draft: Draft, form: StepForm) -> HttpResponse:
    cleaned = {**(_cleaned_steps(draft) or {}), **form.cleaned_data}
    payload = submission.build_payload(
        draft.kind,
        cleaned,
        draft.attachment_ids,
        power_of_attorney=draft.data.get(submission.POWER_OF_ATTORNEY, ""),
    )
    try:
        case = submit_case(
            kind=draft.kind, by=_user(request), payload=payload, idempotency_key=draft.token
        )
    except IntakeError as exc:
        return _refused(request, draft, exc.fields)
    except IntakeForbidden as exc:
        messages.error(request, str(exc))
        return redirect(step_url(draft.kind, STEPS[draft.kind][-1]))
    except IdempotencyMismatch as exc:
        case = exc.case
    remember_submission(request.session, draft.token, case.number)
    discard_draft(request.session, draft.kind)
    messages.success(
        request, _("已提交，编号 %(number)s。请留意办理进度。") % {"number": case.number}
    )
    return redirect("my_case", number=case.number)


def _refused(request: HttpRequest, draft: Draft, fields: dict[str, list[str]]) -> HttpResponse:
    """Intake said no: put each message next to its field and go to the first such step."""
    draft.errors = submission.errors_by_field(draft.kind, fields)
    save_draft(request.session, draft)
    messages.error(request, _("提交的内容有误，请按提示修改后再提交。"))
    first = submission.first_step_with_errors(draft.kind, draft.errors)
    return redirect(step_url(draft.kind, first))
