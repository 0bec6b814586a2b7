"""The staff workbench: queues with counts, the membership switcher, the case page and its actions.

Views stay thin: reads come from `workbench.selectors` and `cases.presenters`, every change goes
through `cases.services.perform`, and what a user may see or do is decided by `cases.access` and
`cases.workflow`.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import User
from cases.access import get_case_for, memberships_over
from cases.deadlines import today as local_today
from cases.models import Case
from cases.services import InvalidAction, InvalidParams, StaleVersion, perform
from workbench import pages
from workbench.forms import ActionForm, QueueFilterForm, action_form
from workbench.selectors import (
    Queue,
    QueueFilters,
    active_membership,
    is_capped,
    memberships_of,
    queue_cases,
    queue_counts,
    sort_key,
)

SESSION_KEY = "workbench_membership"
STALE_MESSAGE = gettext_lazy("案件已被他人更新，请刷新后重试")


def _desk(request: HttpRequest) -> pages.Desk | None:
    """The user's memberships and the one they work in now; None for a user without any."""
    user: User = request.user  # type: ignore[assignment]
    memberships = memberships_of(user)
    active = active_membership(memberships, request.session.get(SESSION_KEY))
    return pages.Desk(memberships, active) if active is not None else None


def _staff_desk(request: HttpRequest) -> pages.Desk:
    desk = _desk(request)
    if desk is None:
        raise PermissionDenied(_("工作台仅供市场监管部门工作人员使用。"))
    return desk


@login_required
def queue(request: HttpRequest, queue: str = Queue.TO_ACCEPT.value) -> HttpResponse:
    desk = _staff_desk(request)
    try:
        current = Queue(queue)
    except ValueError as exc:
        raise Http404(queue) from exc
    user: User = request.user  # type: ignore[assignment]
    department = desk.active.department
    form = QueueFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else QueueFilters()
    sort = sort_key(current, form.requested_sort() if form.is_bound else "")
    today = local_today()
    counts = queue_counts(user, department, filters, today=today)
    cases = queue_cases(user, department, current, filters, sort=sort, today=today)
    page = pages.paginate(cases, count=counts[current], number=request.GET.get("page"))
    disputes = (
        pages.dispute_stages(page.object_list, department, today)
        if current == Queue.DISPUTES
        else {}
    )
    context = {
        "desk": desk,
        "queue": current,
        "form": form,
        "filters": filters,
        "tabs": pages.queue_tabs(request.GET, counts, current),
        "columns": pages.columns(request.GET, current, sort),
        "page": page,
        "capped": is_capped(counts[current]),
        "shown": pages.cap_label(),
        "rows": pages.rows(page.object_list, today, disputes=disputes),
        "page_links": pages.page_links(request.GET, page),
    }
    return render(request, "workbench/queue.html", context)


@login_required
@require_POST
def switch_membership(request: HttpRequest) -> HttpResponse:
    desk = _staff_desk(request)
    chosen = next(
        (m for m in desk.memberships if str(m.pk) == request.POST.get("membership")), None
    )
    if chosen is None:
        raise PermissionDenied(_("您不属于该部门。"))
    request.session[SESSION_KEY] = chosen.pk
    messages.success(request, _("已切换到 %(unit)s。") % {"unit": chosen.department.name})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("staff:home")
    return HttpResponseRedirect(target)


def _staff_case(request: HttpRequest, number: str) -> tuple[pages.Desk, Case]:
    """The case if the user sees it as staff; 404 otherwise (also for its own consumer)."""
    desk = _desk(request)
    if desk is None:
        raise Http404(number)
    user: User = request.user  # type: ignore[assignment]
    case = get_case_for(user, number)
    if not memberships_over(user, case):
        raise Http404(number)
    return desk, case


@login_required
def case_detail(request: HttpRequest, number: str) -> HttpResponse:
    desk, case = _staff_case(request, number)
    return _render_case(request, desk, case)


def _render_case(
    request: HttpRequest,
    desk: pages.Desk,
    case: Case,
    *,
    bound: ActionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    context = pages.case_context(case, user, bound=bound)
    context["desk"] = desk
    return render(request, "workbench/case.html", context, status=status)


@login_required
@require_POST
def case_act(request: HttpRequest, number: str) -> HttpResponse:
    desk, case = _staff_case(request, number)
    user: User = request.user  # type: ignore[assignment]
    form = action_form(case, request.POST.get("action", ""), data=request.POST)
    if form is None:
        messages.error(request, _("当前状态下您不能执行此操作。"))
        return _render_case(request, desk, case, status=409)
    if not form.is_valid():
        return _render_case(request, desk, case, bound=form, status=422)
    try:
        perform(
            case, form.spec.name, by=user, version=form.cleaned_data["version"], **form.params()
        )
    except StaleVersion:
        messages.error(request, STALE_MESSAGE)
        return _render_fresh(request, desk, number, form, status=409)
    except InvalidAction as exc:
        messages.error(request, exc.message)
        return _render_fresh(request, desk, number, None, status=409)
    except InvalidParams as exc:
        form.apply_errors(exc.fields, exc.message)
        return _render_case(request, desk, case, bound=form, status=422)
    messages.success(request, _("已完成：%(action)s。") % {"action": form.label})
    return _after_action(request, number)


def _render_fresh(
    request: HttpRequest, desk: pages.Desk, number: str, form: ActionForm | None, *, status: int
) -> HttpResponse:
    """The case as it is now, with the user's input kept; the queue if it has left their reach."""
    case = _still_in_reach(request, number)
    if case is None:
        return redirect("staff:home")
    bound = form.refreshed(case) if form is not None else None
    return _render_case(request, desk, case, bound=bound, status=status)


def _still_in_reach(request: HttpRequest, number: str) -> Case | None:
    """The case if the user still sees it as staff (a transfer can take it out of reach)."""
    user: User = request.user  # type: ignore[assignment]
    try:
        case = get_case_for(user, number)
    except Http404:
        return None
    return case if memberships_over(user, case) else None


def _after_action(request: HttpRequest, number: str) -> HttpResponse:
    """Back to the case, or to the queue when the case has left the user's reach."""
    if _still_in_reach(request, number) is None:
        return redirect("staff:home")
    return redirect("staff:case", number=number)
