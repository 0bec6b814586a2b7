"""GET /api/v1/departments/{code} and /children, public and read-only."""

from __future__ import annotations

from departments.models import Department


def test_a_department_is_answered_with_its_parent_code(api, tree):
    response = api.get("/api/v1/departments/330106")
    assert response.status_code == 200
    assert response.json() == {
        "code": "330106",
        "name": "西湖区",
        "level": "county",
        "parent": "330100",
    }


def test_the_national_office_has_no_parent(api, tree):
    assert api.get("/api/v1/departments/100000").json()["parent"] is None


def test_a_countys_children_are_its_stations_in_code_order(api, tree):
    response = api.get("/api/v1/departments/330106/children")
    assert response.status_code == 200
    assert response.json() == [
        {
            "code": "330106001",
            "name": "西湖区文新市场监管所",
            "level": "station",
            "parent": "330106",
        },
        {
            "code": "330106002",
            "name": "西湖区灵隐市场监管所",
            "level": "station",
            "parent": "330106",
        },
    ]


def test_an_inactive_child_is_left_out(api, tree):
    Department.objects.filter(code="330106002").update(is_active=False)
    codes = [d["code"] for d in api.get("/api/v1/departments/330106/children").json()]
    assert codes == ["330106001"]


def test_an_unknown_department_is_a_json_404(api, tree):
    for path in ("/api/v1/departments/999999", "/api/v1/departments/999999/children"):
        response = api.get(path)
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert response.json() == {"error": {"code": "not_found", "message": "未找到。"}}


def test_an_inactive_department_is_a_404(api, tree):
    Department.objects.filter(code="330102").update(is_active=False)
    assert api.get("/api/v1/departments/330102").status_code == 404
    assert api.get("/api/v1/departments/330106").status_code == 200


def test_the_openapi_schema_documents_departments_and_jurisdiction(api, db):
    paths = api.get("/api/v1/openapi.json").json()["paths"]
    assert {
        "/api/v1/departments/{code}",
        "/api/v1/departments/{code}/children",
        "/api/v1/jurisdiction/suggest",
        "/api/v1/jurisdiction/candidates",
    } <= set(paths)
