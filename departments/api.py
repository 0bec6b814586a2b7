"""Departments and jurisdiction API."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from departments.models import Department

router = Router(tags=["departments"])


class DepartmentOut(Schema):
    code: str
    name: str
    level: str
    parent: str | None

    @staticmethod
    def resolve_parent(obj: Department) -> str | None:
        return obj.parent_id


@router.get("/departments/{code}", response=DepartmentOut, auth=None)
def department_detail(request: HttpRequest, code: str) -> Department:
    return get_object_or_404(Department, code=code, is_active=True)


@router.get("/departments/{code}/children", response=list[DepartmentOut], auth=None)
def department_children(request: HttpRequest, code: str) -> list[Department]:
    department = get_object_or_404(Department, code=code, is_active=True)
    return list(department.children.filter(is_active=True).order_by("code"))
