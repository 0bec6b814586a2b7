"""Departments and jurisdiction API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema

from api.errors import ApiError
from cases.rules import SHANGHAI, rules_for
from departments.jurisdiction import (
    AddressError,
    AmbiguousAddress,
    Resolution,
    Suggestion,
    UnknownAddress,
    resolve_address,
    suggest_jurisdictions,
)
from departments.models import Department

router = Router(tags=["departments"])
MAX_ADDRESS_LENGTH = 200


class DepartmentOut(Schema):
    code: str
    name: str
    level: str
    parent: str | None

    @staticmethod
    def resolve_parent(obj: Department) -> str | None:
        return obj.parent_id


class DepartmentBrief(Schema):
    code: str
    name: str
    level: str


class ResolutionOut(Schema):
    department: DepartmentBrief
    province: str | None
    city: str | None
    county: str


class ProblemOut(Schema):
    code: str
    message: str
    candidates: list[dict[str, Any]]
    near: DepartmentBrief | None = None


class SuggestionOut(Schema):
    basis: str
    explanation: str
    legal_basis: str
    address_role: str
    address: str
    department: DepartmentBrief | None
    province: str | None
    city: str | None
    problem: ProblemOut | None


@router.get("/departments/{code}", response=DepartmentOut, auth=None)
def department_detail(request: HttpRequest, code: str) -> Department:
    return get_object_or_404(Department, code=code, is_active=True)


@router.get("/departments/{code}/children", response=list[DepartmentOut], auth=None)
def department_children(request: HttpRequest, code: str) -> list[Department]:
    department = get_object_or_404(Department, code=code, is_active=True)
    return list(department.children.filter(is_active=True).order_by("code"))


@router.get("/jurisdiction/suggest", response=ResolutionOut, auth=None)
def jurisdiction_suggest(request: HttpRequest, address: str) -> dict[str, Any]:
    """The county-level department for an address; 422 `unknown_address` or `ambiguous_address`
    (with `candidates`) when there is not exactly one."""
    _check_address("address", address, required=True)
    try:
        resolution = resolve_address(address)
    except AddressError as exc:
        raise _address_api_error(exc) from exc
    return _resolution_out(resolution)


@router.get("/jurisdiction/candidates", response=list[SuggestionOut], auth=None)
def jurisdiction_candidates(
    request: HttpRequest,
    respondent_address: str = "",
    platform_address: str = "",
    seller_on_platform: bool = False,
    kind: Literal["complaint", "report", "consultation"] = "complaint",
    received_on: dt.date | None = None,
) -> list[dict[str, Any]]:
    """The departments competent for a case, for the submission form to offer (WORKFLOW.md
    "Jurisdiction"); an address that cannot be resolved gives an entry with a `problem`."""
    _check_address("respondent_address", respondent_address, required=not seller_on_platform)
    _check_address("platform_address", platform_address, required=False)
    if not respondent_address.strip() and not platform_address.strip():
        raise _invalid("respondent_address", _("请填写被投诉（举报）人地址或平台地址。"))
    suggestions = suggest_jurisdictions(
        rules=_rules_on(received_on or timezone.localdate()),
        kind=kind,
        respondent_address=respondent_address,
        platform_address=platform_address,
        seller_on_platform=seller_on_platform,
    )
    return [_suggestion_out(suggestion) for suggestion in suggestions]


def _rules_on(day: dt.date) -> str:
    return rules_for(dt.datetime.combine(day, dt.time(12), tzinfo=SHANGHAI))


def _check_address(field: str, value: str, *, required: bool) -> None:
    if required and not value.strip():
        raise _invalid(field, _("请填写地址。"))
    if len(value) > MAX_ADDRESS_LENGTH:
        raise _invalid(field, _("地址不能超过 %(n)d 个字。") % {"n": MAX_ADDRESS_LENGTH})


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(
        422, "invalid", _("提交的数据有误，请按字段提示修改。"), fields={field: [message]}
    )


def _address_api_error(exc: AddressError) -> ApiError:
    return ApiError(422, exc.code, exc.message, extra=_problem_extra(exc))


def _problem_extra(exc: AddressError) -> dict[str, Any]:
    extra: dict[str, Any] = {"candidates": []}
    if isinstance(exc, AmbiguousAddress):
        extra["candidates"] = [_candidate(department) for department in exc.candidates]
    if isinstance(exc, UnknownAddress) and exc.near is not None:
        extra["near"] = _brief(exc.near)
    return extra


def _candidate(department: Department) -> dict[str, Any]:
    parent = department.parent
    return {
        **_brief(department),
        "parent_name": parent.name if parent else None,
        "full_name": "".join(_names_from_province(department)),
    }


def _names_from_province(department: Department) -> list[str]:
    names: list[str] = []
    current: Department | None = department
    while current is not None and current.parent_id is not None:
        if not names or names[-1] != current.name:  # 北京市 (province) > 北京市 (city)
            names.append(current.name)
        current = current.parent
    return names[::-1]


def _brief(department: Department) -> dict[str, str]:
    return {"code": department.code, "name": department.name, "level": department.level}


def _resolution_out(resolution: Resolution) -> dict[str, Any]:
    return {
        "department": _brief(resolution.county),
        "province": resolution.province.name if resolution.province else None,
        "city": resolution.city.name if resolution.city else None,
        "county": resolution.county.name,
    }


def _suggestion_out(suggestion: Suggestion) -> dict[str, Any]:
    resolution = suggestion.resolution
    problem = suggestion.problem
    return {
        "basis": suggestion.basis.value,
        "explanation": suggestion.explanation,
        "legal_basis": suggestion.legal_basis,
        "address_role": suggestion.address_role.value,
        "address": suggestion.address,
        "department": _brief(resolution.county) if resolution else None,
        "province": resolution.province.name if resolution and resolution.province else None,
        "city": resolution.city.name if resolution and resolution.city else None,
        "problem": (
            {"code": problem.code, "message": problem.message, **_problem_extra(problem)}
            if problem
            else None
        ),
    }
