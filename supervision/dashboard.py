"""The live monitoring dashboard: numbers first, charts second, then the child units and the
overdue cases. Every number links to the list of the cases it counts (`cases_behind`), built from
the same querysets as the number itself (`supervision.stats`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from cases.deadlines import today as local_today
from cases.models import Channel, Kind, Status
from departments.models import Department
from supervision import selectors, stats
from supervision.stats import Figures, Metric, Period

SORT_KEYS = (
    "code",
    "received",
    "open",
    "overdue",
    "due_soon",
    "on_time_rate",
    "mediation_success_rate",
    "satisfaction",
    "amount_recovered",
)


@dataclass(frozen=True)
class Number:
    label: str
    value: Any
    href: str = ""


class Links:
    """URLs of the case lists behind the numbers of one department over one period."""

    def __init__(self, department: Department, period: Period) -> None:
        self.base = reverse("supervision:cases_behind", args=[department.code])
        self.period = period

    def __call__(self, metric: Metric, value: str = "") -> str:
        query = {"metric": metric.value, "from": self.period.start, "to": self.period.end}
        if value:
            query["value"] = value
        return f"{self.base}?{urlencode(query)}"


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def headline(figures: Figures, links: Links) -> list[Number]:
    """The numbers at the top of the page, in the order a supervisor reads them."""
    return [
        Number(_("登记总数"), figures.received_total, links(Metric.RECEIVED)),
        *[
            Number(str(Kind(kind).label), n, links(Metric.RECEIVED, kind))
            for kind, n in figures.received.items()
        ],
        Number(_("在办"), figures.open_total, links(Metric.OPEN)),
        Number(_("即将到期"), figures.due_soon, links(Metric.DUE_SOON)),
        Number(_("已超期"), figures.overdue, links(Metric.OVERDUE)),
        Number(_("按期办结率"), _percent(figures.on_time_rate), links(Metric.LATE)),
        Number(_("调解成功率"), _percent(figures.mediation_success_rate), links(Metric.MEDIATED)),
        Number(
            _("满意度（5分制）"),
            "—" if figures.satisfaction is None else f"{figures.satisfaction:.2f}",
            links(Metric.RATED),
        ),
        Number(
            _("挽回经济损失（元）"), f"{figures.amount_recovered:,.2f}", links(Metric.RECOVERED)
        ),
    ]


def open_by_state(figures: Figures, links: Links) -> list[Number]:
    return [
        Number(str(Status(status).label), n, links(Metric.OPEN, status))
        for status, n in figures.open.items()
    ]


def charts(overview: stats.Overview) -> dict[str, Any]:
    """The data the ECharts script draws (the same numbers are in the tables next to it)."""
    return {
        "days": [day.isoformat() for day, _n in overview.by_day],
        "received": [n for _day, n in overview.by_day],
        "channels": [
            {"name": str(Channel(channel).label), "value": n}
            for channel, n in overview.by_channel.items()
        ],
        "states": [str(Status(status).label) for status in overview.total.open],
        "open": list(overview.total.open.values()),
        "labels": {
            "received": _("每日登记量"),
            "channels": _("登记渠道"),
            "open": _("在办案件状态"),
            "empty": _("统计区间内没有登记"),
        },
    }


def _sort_value(row: tuple[Department, Figures], key: str) -> tuple[bool, Any]:
    department, figures = row
    values: dict[str, Any] = {
        "code": department.code,
        "received": figures.received_total,
        "open": figures.open_total,
        "overdue": figures.overdue,
        "due_soon": figures.due_soon,
        "on_time_rate": figures.on_time_rate,
        "mediation_success_rate": figures.mediation_success_rate,
        "satisfaction": figures.satisfaction,
        "amount_recovered": figures.amount_recovered,
    }
    value = values[key]
    return value is None, value if value is not None else 0


def sorted_children(
    children: list[tuple[Department, Figures]], sort: str
) -> tuple[list[tuple[Department, Figures]], str, bool]:
    """Children sorted by `sort` ("-" prefix: descending); units without a rate sort last."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORT_KEYS:
        key, descending = "code", False
    present = [row for row in children if not _sort_value(row, key)[0]]
    missing = [row for row in children if _sort_value(row, key)[0]]
    present.sort(key=lambda row: _sort_value(row, key)[1], reverse=descending)
    return present + missing, key, descending


def _cells(figures: Figures, links: Links) -> list[Number]:
    """One child unit's row: the same figures as the headline, each linked to its cases."""
    satisfaction = "—" if figures.satisfaction is None else f"{figures.satisfaction:.2f}"
    return [
        Number(_("登记"), figures.received_total, links(Metric.RECEIVED)),
        Number(_("在办"), figures.open_total, links(Metric.OPEN)),
        Number(_("已超期"), figures.overdue, links(Metric.OVERDUE)),
        Number(_("即将到期"), figures.due_soon, links(Metric.DUE_SOON)),
        Number(_("按期办结率"), _percent(figures.on_time_rate), links(Metric.LATE)),
        Number(_("调解成功率"), _percent(figures.mediation_success_rate), links(Metric.MEDIATED)),
        Number(_("满意度"), satisfaction, links(Metric.RATED)),
        Number(_("挽回损失（元）"), f"{figures.amount_recovered:,.2f}", links(Metric.RECOVERED)),
    ]


def child_rows(children: list[tuple[Department, Figures]], period: Period) -> list[dict[str, Any]]:
    span = urlencode({"from": period.start, "to": period.end})
    return [
        {
            "department": department,
            "dashboard": reverse("supervision:dashboard_of", args=[department.code]) + "?" + span,
            "cells": _cells(figures, Links(department, period)),
        }
        for department, figures in children
    ]


def sort_headers(request: HttpRequest, key: str, descending: bool) -> list[dict[str, Any]]:
    labels = {
        "code": _("单位"),
        "received": _("登记"),
        "open": _("在办"),
        "overdue": _("已超期"),
        "due_soon": _("即将到期"),
        "on_time_rate": _("按期办结率"),
        "mediation_success_rate": _("调解成功率"),
        "satisfaction": _("满意度"),
        "amount_recovered": _("挽回损失（元）"),
    }
    headers = []
    for name, label in labels.items():
        current = name == key
        if current:
            next_sort = name if descending else f"-{name}"
        else:
            next_sort = name if name == "code" else f"-{name}"
        query = request.GET.copy()
        query["sort"] = next_sort
        headers.append(
            {
                "label": label,
                "href": f"?{query.urlencode()}",
                "aria_sort": ("descending" if descending else "ascending") if current else "",
            }
        )
    return headers


def _period(request: HttpRequest) -> Period:
    """The period asked for; an invalid one is reported and the default shown instead."""
    today = local_today()
    try:
        return stats.parse_period(
            start=request.GET.get("from"), end=request.GET.get("to"), today=today
        )
    except stats.InvalidPeriod as exc:
        for errors in exc.fields.values():
            for error in errors:
                messages.error(request, error)
        return stats.parse_period(start=None, end=None, today=today)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@login_required
def dashboard(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """The subtree of my department (or of `code`, 404 outside my subtrees), live."""
    user = _user(request)
    department = selectors.covered_department(user, code)
    period = _period(request)
    overview = stats.overview(department=department, period=period)
    links = Links(department, period)
    children, key, descending = sorted_children(overview.children, request.GET.get("sort", ""))
    context = {
        "department": department,
        "breadcrumb": selectors.breadcrumb(user, department),
        "period": period,
        "overview": overview,
        "numbers": headline(overview.total, links),
        "open_states": open_by_state(overview.total, links),
        "channels": [
            Number(str(Channel(c).label), n, links(Metric.CHANNEL, c))
            for c, n in overview.by_channel.items()
        ],
        "charts": charts(overview),
        "children": child_rows(children, period),
        "headers": sort_headers(request, key, descending),
        "overdue_cases": stats.overdue_cases(department),
        "overdue_link": links(Metric.OVERDUE),
        "nav": "dashboard",
    }
    return render(request, "supervision/dashboard.html", context)


@login_required
def cases_behind(request: HttpRequest, code: str) -> HttpResponse:
    """The cases a dashboard number counts."""
    user = _user(request)
    department = selectors.covered_department(user, code)
    period = _period(request)
    metric, value = request.GET.get("metric", ""), request.GET.get("value", "")
    try:
        rows = stats.cases_behind(department=department, period=period, metric=metric, value=value)
    except stats.UnknownMetric as exc:
        raise Http404(metric) from exc
    page = Paginator(
        rows.select_related("department", "handler_unit").order_by("-received_at", "-id"), 50
    ).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "department": department,
        "breadcrumb": selectors.breadcrumb(user, department),
        "period": period,
        "metric_label": stats.METRIC_LABELS[Metric(metric)],
        "value_label": _value_label(metric, value),
        "page": page,
        "query": query.urlencode(),
        "nav": "dashboard",
    }
    return render(request, "supervision/cases.html", context)


def _value_label(metric: str, value: str) -> str:
    choices = {
        Metric.RECEIVED: Kind,
        Metric.CHANNEL: Channel,
        Metric.OPEN: Status,
    }.get(Metric(metric))
    if choices is not None and value in choices.values:
        return str(choices(value).label)
    return value
