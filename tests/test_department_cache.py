"""Intake's copies of the departments (departments.cache): a change to a department's row shows
in the next submission, even one made without a signal (`update`, `bulk_update`, as
`load_divisions` and the station loader write)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case
from departments import cache as department_cache
from departments.models import Department, Level
from supervision.models import Rollup
from supervision.rollups import RECEIVED
from tests.conftest import make_department
from tests.test_intake_api import complaint_body, media_and_cache  # noqa: F401 (autouse)


def file(api, user, **overrides):
    return api.as_user(user).post_json("/api/v1/complaints", complaint_body(**overrides))


def received_by(unit: str) -> int:
    return sum(Rollup.objects.filter(unit_id=unit, metric=RECEIVED).values_list("n", flat=True))


def test_a_department_renamed_without_a_signal_is_shown_by_its_new_name(api, cast):
    assert file(api, cast.alice).status_code == 201  # the copy is kept

    Department.objects.filter(code="330106").update(name="西湖新区")

    response = file(api, cast.alice)
    assert response.status_code == 201
    shown = response.json()["department"]
    assert (shown["name"], shown["bureau"]) == ("西湖新区", "杭州市西湖新区市场监督管理局")
    assert department_cache.department("330106").name == "西湖新区"


def test_a_department_moved_without_a_signal_counts_the_case_on_its_new_path(api, cast, tree):
    other_city = make_department("330200", "宁波市", Level.CITY, tree.province)
    assert file(api, cast.alice).status_code == 201
    assert (received_by("330100"), received_by("330200")) == (1, 0)

    Department.objects.filter(code="330106").update(
        parent=other_city, path=f"{other_city.path}330106/"
    )

    assert file(api, cast.alice).status_code == 201
    assert (received_by("330100"), received_by("330200")) == (1, 1)


def test_a_department_deactivated_without_a_signal_refuses_the_next_complaint(api, cast):
    assert file(api, cast.alice).status_code == 201

    Department.objects.filter(code="330106").update(is_active=False)

    response = file(api, cast.alice)
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["department"]
    assert Case.objects.count() == 1


def test_a_department_no_longer_county_level_refuses_the_next_complaint(api, cast):
    assert file(api, cast.alice).status_code == 201

    Department.objects.filter(code="330106").update(is_county_level=False)

    response = file(api, cast.alice)
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["department"] == ["请选择县级（区县）市场监管部门。"]


def test_a_department_active_again_receives_at_once(api, cast):
    Department.objects.filter(code="330106").update(is_active=False)
    assert file(api, cast.alice).status_code == 422  # the inactive row is the copy now

    Department.objects.filter(code="330106").update(is_active=True)

    assert file(api, cast.alice).status_code == 201


def test_a_department_created_after_the_copies_were_made_receives(api, cast, tree):
    assert file(api, cast.alice).status_code == 201
    make_department("330108", "滨江区", Level.COUNTY, tree.city)

    response = file(api, cast.alice, department="330108")

    assert response.status_code == 201
    assert response.json()["department"]["code"] == "330108"


def test_an_unchanged_department_is_not_read_again_beyond_the_check(api, cast):
    assert file(api, cast.alice).status_code == 201

    with CaptureQueriesContext(connection) as captured:
        assert file(api, cast.alice).status_code == 201

    # One statement reads the department's row: the check (PostgreSQL: with the keys).
    reads = [q["sql"] for q in captured.captured_queries if '"departments_department"' in q["sql"]]
    assert len(reads) == 1, reads


def test_a_copy_matches_its_row_and_a_changed_row_replaces_it(cast):
    copy = department_cache.department("330106", fresh=True)
    assert copy is not None
    assert department_cache.confirm(copy, department_cache.row_of("330106"))

    Department.objects.filter(code="330106").update(name="西湖新区")

    assert not department_cache.confirm(copy, department_cache.row_of("330106"))
    assert department_cache.department("330106").name == "西湖新区"
    assert not department_cache.confirm(copy, None)
    assert department_cache.department("330106").name == "西湖新区"  # read again
