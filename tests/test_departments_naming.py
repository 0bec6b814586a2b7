"""The public name of a department is its bureau's, qualified by the city for a county."""

from __future__ import annotations


def test_a_county_is_named_as_its_city_and_county_bureau(tree):
    assert tree.county.bureau_name == "杭州市西湖区市场监督管理局"


def test_province_and_city_bureaus(tree):
    assert tree.province.bureau_name == "浙江省市场监督管理局"
    assert tree.city.bureau_name == "杭州市市场监督管理局"


def test_national_and_station_keep_their_own_names(tree):
    assert tree.national.bureau_name == "国家市场监督管理总局"
    assert tree.station.bureau_name == "西湖区文新市场监管所"


def test_a_renamed_city_is_seen_at_once(tree):
    assert tree.county.bureau_name.startswith("杭州市")
    tree.city.name = "杭州"
    tree.city.save()
    assert tree.county.bureau_name == "杭州西湖区市场监督管理局"


def test_a_city_renamed_by_another_process_is_seen_once_the_name_is_old(tree, monkeypatch):
    """A rename in another web worker sends no signal here: the kept name is read again after
    NAME_TTL seconds."""
    from departments import naming
    from departments.models import Department

    clock = [1000.0]
    monkeypatch.setattr(naming.time, "monotonic", lambda: clock[0])
    naming.clear_names()
    assert tree.county.bureau_name == "杭州市西湖区市场监督管理局"

    Department.objects.filter(code=tree.city.code).update(name="杭州")  # no signal
    clock[0] += naming.NAME_TTL - 1
    assert tree.county.bureau_name == "杭州市西湖区市场监督管理局"
    clock[0] += 2
    assert tree.county.bureau_name == "杭州西湖区市场监督管理局"
