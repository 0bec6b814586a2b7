"""The tree's invariants: materialised paths follow moves, parents sit above their children, and
the address index forgets a renamed department."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from departments.jurisdiction import AmbiguousAddress, UnknownAddress, resolve_address
from departments.models import Department, Level
from tests.conftest import make_department


def test_moving_a_department_moves_the_paths_below_it(tree):
    other_city = make_department("330200", "宁波市", Level.CITY, tree.province)

    tree.county.parent = other_city
    tree.county.save()

    assert Department.objects.get(code="330106").path == "100000/330000/330200/330106/"
    assert Department.objects.get(code="330106001").path == (
        "100000/330000/330200/330106/330106001/"
    )
    assert Department.objects.get(code="330102001").path == (
        "100000/330000/330100/330102/330102001/"
    )


def test_saving_the_parent_alone_also_saves_the_path(tree):
    other_city = make_department("330200", "宁波市", Level.CITY, tree.province)
    tree.county.parent = other_city
    tree.county.save(update_fields=["parent"])
    assert Department.objects.get(code="330106002").path.startswith("100000/330000/330200/")


def test_renaming_a_department_leaves_paths_alone(tree):
    tree.county.name = "西湖"
    tree.county.save(update_fields=["name"])
    assert Department.objects.get(code="330106001").path == "100000/330000/330100/330106/330106001/"


@pytest.mark.parametrize(
    ("code", "level", "parent", "message"),
    [
        ("330107", Level.COUNTY, None, "只有总局"),
        ("330199", Level.CITY, "330106", "层级必须高于"),
        ("330100009", Level.STATION, "330100", "县级部门之下"),
    ],
)
def test_a_department_must_sit_below_a_higher_level(tree, code, level, parent, message):
    department = Department(code=code, name="某部门", level=level, parent_id=parent)
    with pytest.raises(ValidationError, match=message):
        department.full_clean()


def test_a_department_cannot_move_under_its_own_station(tree):
    tree.county.parent = tree.station
    with pytest.raises(ValidationError, match="本部门或其下级部门"):
        tree.county.full_clean()


def test_a_well_placed_department_is_valid(tree):
    Department(
        code="330106003", name="转塘所", level=Level.STATION, parent=tree.county
    ).full_clean()
    Department(code="330108", name="滨江区", level=Level.COUNTY, parent=tree.city).full_clean()


def test_the_address_index_follows_a_rename(tree):
    assert resolve_address("杭州市西湖区").county.code == "330106"

    tree.county.name = "西湖新区"
    tree.county.save()

    with pytest.raises(UnknownAddress):
        resolve_address("杭州市西湖区")
    assert resolve_address("杭州市西湖新区").county.code == "330106"


def test_the_address_index_sees_a_new_county_of_the_same_name(tree):
    nanchang = make_department(
        "360100",
        "南昌市",
        Level.CITY,
        make_department("360000", "江西省", Level.PROVINCE, tree.national),
    )
    make_department("360103", "西湖区", Level.COUNTY, nanchang)

    with pytest.raises(AmbiguousAddress):
        resolve_address("西湖区")
    assert resolve_address("杭州西湖区").county.code == "330106"
