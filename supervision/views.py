"""Supervision pages: each unit's inbox of orders, the issuing body's outbox and the supervision
page of a case (manual order, tracking). The dashboard is `supervision.dashboard`.

Views check shape with a form and hand clean values to `supervision.services`; who may see what
is decided by `supervision.selectors` and `cases.access`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import User
from cases.access import get_case_for
from cases.deadlines import open_clocks
from cases.deadlines import today as local_today
from cases.idempotency import issue_form_token
from cases.models import Case
from supervision import selectors, services
from supervision.forms import AlertPreferenceForm, OrderForm, RespondForm, TrackingForm
from supervision.models import AlertPreference, OrderStatus, SupervisionOrder, Tracking
from supervision.units import holding_unit

PAGE_SIZE = 50
ALL = "all"
TAB_LABELS = {
    OrderStatus.OPEN.value: gettext_lazy("待答复"),
    OrderStatus.ANSWERED.value: gettext_lazy("已答复"),
    OrderStatus.ESCALATED.value: gettext_lazy("已升级督办"),
    ALL: gettext_lazy("全部"),
}


def _staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    selectors.require_staff(user)
    return user


# --- Inbox and outbox -------------------------------------------------------------------------


@dataclass(frozen=True)
class Tab:
    value: str
    label: str
    count: int
    href: str
    current: bool


def _tabs(orders: QuerySet[SupervisionOrder], url: str, current: str) -> list[Tab]:
    counts = dict(orders.order_by().values_list("status").annotate(n=Count("id")))
    counts[ALL] = sum(counts.values())
    return [
        Tab(value, str(label), counts.get(value, 0), f"{url}?status={value}", value == current)
        for value, label in TAB_LABELS.items()
    ]


def _status(request: HttpRequest) -> str:
    status = request.GET.get("status", OrderStatus.OPEN)
    return status if status in TAB_LABELS else OrderStatus.OPEN


def _listing(request: HttpRequest, orders: QuerySet[SupervisionOrder], url: str) -> dict[str, Any]:
    status = _status(request)
    shown = orders if status == ALL else orders.filter(status=status)
    page = Paginator(shown.order_by("due", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "tabs": _tabs(orders, url, status),
        "status": status,
        "status_label": TAB_LABELS[status],
        "page": page,
        "today": local_today(),
    }


def _render_inbox(
    request: HttpRequest, *, failed: tuple[int, RespondForm] | None = None, status: int = 200
) -> HttpResponse:
    user = _staff(request)
    context = _listing(request, selectors.inbox(user), reverse("supervision:inbox"))
    forms = {order.pk: RespondForm(auto_id=f"order-{order.pk}-%s") for order in context["page"]}
    if failed is not None:
        forms[failed[0]] = failed[1]
    context["rows"] = [(order, forms.get(order.pk)) for order in context["page"]]
    context["preference_form"] = AlertPreferenceForm(instance=_preference(user))
    context["nav"] = "inbox"
    return render(request, "supervision/inbox.html", context, status=status)


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """Orders addressed to the units the user works in, with an answer form on each open one."""
    return _render_inbox(request)


@login_required
def outbox(request: HttpRequest) -> HttpResponse:
    """Orders issued by the user's units, and how each stands."""
    user = _staff(request)
    context = _listing(request, selectors.outbox(user), reverse("supervision:outbox"))
    context["nav"] = "outbox"
    return render(request, "supervision/outbox.html", context)


@login_required
@require_POST
def respond(request: HttpRequest, order_id: int) -> HttpResponse:
    user = _staff(request)
    order = selectors.get_order_to_answer(user, order_id)
    form = RespondForm(request.POST, auto_id=f"order-{order.pk}-%s")
    if not form.is_valid():
        return _render_inbox(request, failed=(order.pk, form), status=422)
    try:
        services.respond_to_order(order=order, by=user, note=form.cleaned_data["note"])
    except services.SupervisionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已答复督办单（案件 %(n)s）。") % {"n": order.case.number})
    return redirect("supervision:inbox")


def _preference(user: User) -> AlertPreference:
    return AlertPreference.objects.filter(user=user).first() or AlertPreference(user=user)


@login_required
@require_POST
def preferences(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    form = AlertPreferenceForm(request.POST, instance=_preference(user))
    if form.is_valid():
        form.save()
        messages.success(request, _("提醒设置已保存。"))
    return redirect("supervision:inbox")


# --- The supervision page of a case -----------------------------------------------------------


def _case_context(user: User, case: Case) -> dict[str, Any]:
    department = services.supervising_department(case, user)
    return {
        "case": case,
        "holder": holding_unit(case),
        "clocks": list(open_clocks(case).order_by("due")),
        "orders": selectors.orders_visible_to(user).filter(case=case).order_by("-created_at"),
        "tracking": Tracking.objects.filter(case=case, ended_at__isnull=True).first(),
        "department": department,
        "form_token": issue_form_token(),
        "nav": "case",
    }


def _render_case(
    request: HttpRequest,
    case: Case,
    *,
    order_form: OrderForm | None = None,
    tracking_form: TrackingForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _staff(request)
    context = _case_context(user, case)
    context["order_form"] = order_form or OrderForm()
    context["tracking_form"] = tracking_form or TrackingForm()
    return render(request, "supervision/case.html", context, status=status)


def _visible_case(request: HttpRequest, number: str) -> Case:
    user = _staff(request)
    return get_case_for(user, number)


@login_required
def case_order(request: HttpRequest, number: str) -> HttpResponse:
    """The case seen from supervision: its clocks and orders; a supervisor above the unit holding
    it issues an order here."""
    case = _visible_case(request, number)
    if request.method != "POST":
        return _render_case(request, case)
    form = OrderForm(request.POST)
    if not form.is_valid():
        return _render_case(request, case, order_form=form, status=422)
    try:
        services.issue_manual_order(
            case=case,
            by=_staff(request),
            instructions=form.cleaned_data["instructions"],
            due=form.cleaned_data["due"],
            idempotency_key=request.POST.get("form_token", "")[:100],
        )
    except services.SupervisionError as exc:
        return _refused(request, case, exc, order_form=form)
    messages.success(request, _("督办单已发出。"))
    return redirect("supervision:case_order", number=case.number)


@login_required
def case_tracking(request: HttpRequest, number: str) -> HttpResponse:
    """Mark the case major/difficult and start tracking supervision."""
    case = _visible_case(request, number)
    if request.method != "POST":
        return _render_case(request, case)
    form = TrackingForm(request.POST)
    if not form.is_valid():
        return _render_case(request, case, tracking_form=form, status=422)
    try:
        services.start_tracking(
            case=case,
            by=_staff(request),
            every_n_working_days=form.cleaned_data["every_n_working_days"],
        )
    except services.SupervisionError as exc:
        return _refused(request, case, exc, tracking_form=form)
    messages.success(request, _("已标记为重大疑难案件并开始跟踪督办。"))
    return redirect("supervision:case_order", number=case.number)


def _refused(
    request: HttpRequest, case: Case, exc: services.SupervisionError, **forms: Any
) -> HttpResponse:
    if isinstance(exc, services.NotAllowed):
        raise PermissionDenied(exc.message)
    for form in forms.values():
        for field, errors in exc.fields.items():
            form.add_error(field if field in form.fields else None, errors)
        if not exc.fields:
            form.add_error(None, exc.message)
    return _render_case(request, case, status=exc.status, **forms)
