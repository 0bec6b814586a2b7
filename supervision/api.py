"""Supervision and statistics API (API.md, "Supervision and statistics").

Thin: each endpoint checks the shape of its input, asks `supervision.selectors` what the caller
may see and hands clean values to `supervision.services` / `supervision.stats`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from accounts.models import User
from api.auth import signed_in
from api.errors import ApiError
from cases.access import get_case_for
from cases.deadlines import today as local_today
from cases.rules import SHANGHAI
from supervision import selectors, services, stats
from supervision.models import OrderStatus, SupervisionOrder

router = Router(tags=["supervision"], auth=signed_in)

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
MAX_KEY_LENGTH = 100


class OrderOut(Schema):
    id: int
    case: str
    kind: str
    from_department: str
    to_department: str
    instructions: str
    due: dt.date
    status: str
    response: str
    created_at: dt.datetime


class OrderPage(Schema):
    count: int
    results: list[OrderOut]


class OrderIn(Schema):
    case: str
    instructions: str
    due: dt.date | None = None


class RespondIn(Schema):
    note: str


class ChildUnitOut(Schema):
    """A child unit in `by_child`: code and name (named apart from the case's `DepartmentRef`,
    which has `level` too: OpenAPI components share one namespace)."""

    code: str
    name: str


class FiguresOut(Schema):
    received: dict[str, int]
    open: dict[str, int]
    overdue: int
    due_soon: int
    on_time_rate: float | None
    mediation_success_rate: float | None
    satisfaction: float | None
    amount_recovered: str


class ChildOut(FiguresOut):
    department: ChildUnitOut


class DayOut(Schema):
    date: dt.date
    count: int


class OverviewOut(FiguresOut):
    department: str
    from_: dt.date = Field(alias="from")
    to: dt.date
    received_by_channel: dict[str, int]
    received_by_day: list[DayOut]
    by_child: list[ChildOut]


def order_out(order: SupervisionOrder) -> dict[str, Any]:
    return {
        "id": order.pk,
        "case": order.case.number,
        "kind": order.kind,
        "from_department": order.from_department_id,
        "to_department": order.to_department_id,
        "instructions": order.instructions,
        "due": order.due,
        "status": order.status,
        "response": order.response,
        "created_at": timezone.localtime(order.created_at, SHANGHAI).replace(microsecond=0),
    }


def _caller(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _refused(exc: services.SupervisionError) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message, fields=exc.fields or None)


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(
        422, "invalid", _("提交的数据有误，请按字段提示修改。"), fields={field: [message]}
    )


MAX_PAGE = 1_000_000  # a larger OFFSET is never a real page, and overflows SQLite's integers


def _page(page: int, page_size: int) -> tuple[int, int]:
    if not 1 <= page <= MAX_PAGE:
        raise _invalid("page", _("页码应为 1 至 %(n)d 的整数。") % {"n": MAX_PAGE})
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise _invalid("page_size", _("每页条数应为 1 至 %(n)d。") % {"n": MAX_PAGE_SIZE})
    return (page - 1) * page_size, page * page_size


@router.get("/supervision/orders", response=OrderPage)
def list_orders(
    request: HttpRequest,
    status: str | None = None,
    case: str | None = None,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> dict[str, Any]:
    """Orders addressed to or issued by the caller's department subtree, newest first."""
    user = _caller(request)
    selectors.require_staff(user)
    orders = selectors.orders_visible_to(user)
    if status:
        if status not in OrderStatus.values:
            raise _invalid(
                "status", _("应为 %(choices)s 之一。") % {"choices": " / ".join(OrderStatus.values)}
            )
        orders = orders.filter(status=status)
    if case:
        orders = orders.filter(case__number=case)
    first, last = _page(page, page_size)
    return {"count": orders.count(), "results": [order_out(o) for o in orders[first:last]]}


@router.post("/supervision/orders", response={201: OrderOut})
def create_order(request: HttpRequest, payload: OrderIn) -> Status[dict[str, Any]]:
    """A manual order (人工督办) by a supervisor above the unit holding the case."""
    user = _caller(request)
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_KEY_LENGTH:
        raise _invalid("Idempotency-Key", _("幂等键最多 %(n)d 个字符。") % {"n": MAX_KEY_LENGTH})
    case = get_case_for(user, payload.case)
    try:
        order = services.issue_manual_order(
            case=case,
            by=user,
            instructions=payload.instructions,
            due=payload.due,
            idempotency_key=key,
        )
    except services.SupervisionError as exc:
        raise _refused(exc) from exc
    return Status(201, order_out(order))


@router.post("/supervision/orders/{order_id}/respond", response=OrderOut)
def respond(request: HttpRequest, order_id: int, payload: RespondIn) -> dict[str, Any]:
    """The unit addressed answers; anyone else gets 404."""
    user = _caller(request)
    order = selectors.get_order_to_answer(user, order_id)
    try:
        answered = services.respond_to_order(order=order, by=user, note=payload.note)
    except services.SupervisionError as exc:
        raise _refused(exc) from exc
    return order_out(answered)


@router.get("/stats/overview", response=OverviewOut, by_alias=True, tags=["statistics"])
def stats_overview(
    request: HttpRequest,
    department: str | None = None,
    from_: str | None = Query(None, alias="from"),  # type: ignore[assignment]
    to: str | None = None,
) -> dict[str, Any]:
    """Live figures of a department's subtree and of each child unit."""
    user = _caller(request)
    unit = selectors.covered_department(user, department)
    try:
        period = stats.parse_period(start=from_, end=to, today=local_today())
    except stats.InvalidPeriod as exc:
        raise ApiError(422, "invalid", str(exc), fields=exc.fields) from exc
    return stats.overview(department=unit, period=period).as_dict()
