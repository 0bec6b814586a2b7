"""Department administration: a department administrator sees and edits only their subtree
(`departments.access`), a superuser everything."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from accounts.models import Membership, User
from departments.access import (
    admin_subtree_paths,
    can_administer,
    departments_administered_by,
)
from departments.models import Department, Level
from tests.conftest import make_department

CHANGELIST = "/admin/departments/department/"
ADD = "/admin/departments/department/add/"


def change_url(code: str) -> str:
    return f"/admin/departments/department/{code}/change/"


@pytest.fixture
def beijing(tree) -> Department:
    return make_department("110000", "北京市", Level.PROVINCE, tree.national)


def staff(username: str, department: Department, *roles: str) -> User:
    """A staff member without a password (force_login): hashing one per test is slow."""
    user = User.objects.create(username=username)
    Membership.objects.create(user=user, department=department, roles=list(roles))
    return user


@pytest.fixture
def dora(tree) -> User:
    """Zhejiang's department administrator (as in the conftest cast), let into the admin with
    the model permissions."""
    dora = staff("dora", tree.province, "dept_admin")
    dora.is_staff = True
    dora.save()
    dora.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="departments",
            codename__in=["view_department", "change_department", "add_department"],
        )
    )
    return dora


@pytest.fixture
def root(db) -> User:
    return User.objects.create(username="root", is_staff=True, is_superuser=True)


def new_department(parent: str, code: str = "330108", level: str = Level.COUNTY) -> dict:
    return {
        "code": code,
        "name": "滨江区",
        "level": level,
        "parent": parent,
        "is_county_level": "on",
        "is_active": "on",
    }


# --- departments.access ---------------------------------------------------------------------


def test_a_department_administrator_administers_their_subtree(dora, tree, beijing):
    assert admin_subtree_paths(dora) == ["100000/330000/"]
    codes = set(departments_administered_by(dora).values_list("code", flat=True))
    assert {"330000", "330100", "330106", "330106001", "330102001"} <= codes
    assert codes.isdisjoint({"100000", "110000"})
    assert can_administer(dora, tree.county)
    assert not can_administer(dora, beijing)


def test_other_roles_administer_nothing(tree):
    paul = staff("paul", tree.province, "supervisor", "intake")
    nora = staff("nora", tree.national, "supervisor", "analyst")
    assert admin_subtree_paths(paul) == []
    assert not departments_administered_by(paul).exists()
    assert not can_administer(nora, tree.county)


def test_administrators_of_several_departments_administer_each_subtree(dora, tree, beijing):
    Membership.objects.create(user=dora, department=tree.city, roles=["dept_admin"])
    Membership.objects.create(user=dora, department=beijing, roles=["dept_admin", "intake"])
    assert admin_subtree_paths(dora) == ["100000/110000/", "100000/330000/"]
    assert can_administer(dora, beijing)


def test_an_inactive_administrator_administers_nothing(dora):
    dora.is_active = False
    assert admin_subtree_paths(dora) == []


def test_a_superuser_administers_everything(root, beijing):
    assert departments_administered_by(root).count() == Department.objects.count()
    assert can_administer(root, beijing)


# --- the admin ------------------------------------------------------------------------------


def test_a_province_administrator_lists_only_their_province(client, dora, beijing):
    client.force_login(dora)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    shown = {d.code for d in response.context["cl"].result_list}
    assert "330106" in shown
    assert "330000" in shown
    assert "110000" not in shown
    assert "100000" not in shown


def test_a_superuser_lists_every_department(client, root, beijing):
    client.force_login(root)
    response = client.get(CHANGELIST)
    shown = {d.code for d in response.context["cl"].result_list}
    assert {"100000", "110000", "330106"} <= shown


def test_a_province_administrator_cannot_open_another_province(client, dora, beijing):
    client.force_login(dora)
    assert client.get(change_url("330106")).status_code == 200
    assert client.get(change_url("110000")).status_code == 302


def test_a_province_administrator_adds_a_county_inside_their_subtree(client, dora):
    client.force_login(dora)
    response = client.post(ADD, new_department(parent="330100"))
    assert response.status_code == 302
    assert Department.objects.get(code="330108").path == "100000/330000/330100/330108/"


def test_a_province_administrator_cannot_add_under_another_province(client, dora, beijing):
    client.force_login(dora)
    response = client.post(ADD, new_department(parent="110000", code="110108"))
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    assert not Department.objects.filter(code="110108").exists()


def test_a_province_administrator_cannot_add_a_department_without_a_parent(client, dora):
    client.force_login(dora)
    data = new_department(parent="", code="200000", level=Level.NATIONAL)
    response = client.post(ADD, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["parent"] == ["这个字段是必填项。"]
    assert not Department.objects.filter(code="200000").exists()


def test_a_province_administrator_cannot_move_a_county_out(client, dora, beijing):
    client.force_login(dora)
    data = {**new_department(parent="110000", code="330106"), "name": "西湖区"}
    response = client.post(change_url("330106"), data)
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    assert Department.objects.get(code="330106").parent_id == "330100"


def test_a_province_administrator_renames_a_county(client, dora):
    client.force_login(dora)
    data = {**new_department(parent="330100", code="330106"), "name": "西湖区（改）"}
    response = client.post(change_url("330106"), data)
    assert response.status_code == 302
    assert Department.objects.get(code="330106").name == "西湖区（改）"


def test_the_top_of_an_administrators_subtree_cannot_be_moved(client, dora):
    client.force_login(dora)
    response = client.get(change_url("330000"))
    assert response.status_code == 200
    assert "parent" not in response.context["adminform"].form.fields
    assert "code" not in response.context["adminform"].form.fields


def test_a_staff_member_without_the_role_sees_no_departments(client, tree):
    ken = staff("ken", tree.county, "intake", "handler")
    ken.is_staff = True
    ken.save()
    ken.user_permissions.set(Permission.objects.filter(codename="view_department"))
    client.force_login(ken)
    assert client.get(CHANGELIST).status_code == 403


def test_the_parent_picker_offers_only_the_administrators_subtree(client, dora, beijing):
    client.force_login(dora)
    query = {"app_label": "departments", "model_name": "department", "field_name": "parent"}

    inside = client.get("/admin/autocomplete/", {**query, "term": "杭州"}).json()
    outside = client.get("/admin/autocomplete/", {**query, "term": "北京"}).json()

    assert [r["id"] for r in inside["results"]] == ["330100"]
    assert outside["results"] == []
