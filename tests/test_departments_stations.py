"""Stations: `import_stations` and the demo stations the seed asks for."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from departments.models import Department, Level
from departments.stations import chinese_number, ensure_demo_stations
from tests.conftest import make_department


def write_stations(tmp_path, *rows: str, header: str = "code,name,county"):
    path = tmp_path / "stations.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_importing_stations_creates_them_under_their_county(tree, tmp_path):
    path = write_stations(
        tmp_path, "330106003,西湖区转塘市场监管所,330106", "330102002,上城区清波市场监管所,330102"
    )
    out = io.StringIO()

    call_command("import_stations", path, stdout=out)

    station = Department.objects.get(code="330106003")
    assert (station.name, station.level, station.parent_id) == (
        "西湖区转塘市场监管所",
        Level.STATION,
        "330106",
    )
    assert station.path == "100000/330000/330100/330106/330106003/"
    assert not station.is_county_level
    assert Department.objects.get(code="330102002").parent_id == "330102"
    assert "新增 2" in out.getvalue()


def test_importing_again_renames_and_never_duplicates(tree, tmp_path):
    call_command("import_stations", write_stations(tmp_path, "330106003,转塘所,330106"))
    out = io.StringIO()

    call_command(
        "import_stations",
        write_stations(
            tmp_path,
            "330106003,西湖区转塘市场监管所,330106",
            "330106001,西湖区文新市场监管所,330106",
        ),
        stdout=out,
    )

    assert Department.objects.get(code="330106003").name == "西湖区转塘市场监管所"
    assert Department.objects.filter(code__startswith="330106").count() == 4
    assert "新增 0，更新 1，未变 1" in out.getvalue()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("33010600,短代码所,330106", "应为 9 位数字"),
        ("330102009,错县所,330106", "应以其县级部门代码开头"),
        ("330199001,无县所,330199", "县级部门 330199 不存在"),
        ("330100001,市局所,330100", "不是县级部门"),
        ("330106009,,330106", "缺少名称"),
        ("330106003,重复所,330106", "重复"),
    ],
)
def test_a_bad_line_is_named_and_nothing_is_imported(tree, tmp_path, row, message):
    path = write_stations(tmp_path, "330106003,西湖区转塘市场监管所,330106", row)

    with pytest.raises(CommandError, match=f"第 3 行：.*{message}"):
        call_command("import_stations", path)

    assert not Department.objects.filter(code="330106003").exists()


def test_a_file_without_the_header_is_refused(tree, tmp_path):
    with pytest.raises(CommandError, match="code,name,county"):
        call_command("import_stations", write_stations(tmp_path, header="330106003,所,330106"))


def test_a_missing_station_file_is_a_command_error(db, tmp_path):
    with pytest.raises(CommandError, match="无法读取所站文件"):
        call_command("import_stations", tmp_path / "nope.csv")


def test_demo_stations_have_predictable_codes_and_names(tree):
    county = make_department("330108", "滨江区", Level.COUNTY, tree.city)

    stations = ensure_demo_stations(county)

    assert [(s.code, s.name) for s in stations] == [
        ("330108001", "滨江区第一市场监管所"),
        ("330108002", "滨江区第二市场监管所"),
    ]
    assert stations[1].path == "100000/330000/330100/330108/330108002/"
    assert all(s.level == Level.STATION and s.parent_id == "330108" for s in stations)


def test_demo_stations_keep_existing_ones_and_are_idempotent(tree):
    first = ensure_demo_stations(tree.neighbour, count=2)
    again = ensure_demo_stations(tree.neighbour, count=2)

    assert [s.name for s in first] == ["上城区湖滨市场监管所", "上城区第二市场监管所"]
    assert [s.pk for s in again] == [s.pk for s in first]
    assert Department.objects.filter(parent=tree.neighbour).count() == 2


def test_west_lake_has_at_least_two_demo_stations(tree):
    ensure_demo_stations(tree.county)
    assert Department.objects.filter(parent=tree.county, level=Level.STATION).count() >= 2


def test_demo_stations_need_a_county_level_department(tree):
    with pytest.raises(ValueError, match="county-level"):
        ensure_demo_stations(tree.city)


@pytest.mark.parametrize(
    ("number", "words"),
    [(1, "一"), (9, "九"), (10, "十"), (12, "十二"), (20, "二十"), (99, "九十九")],
)
def test_station_ordinals_are_written_in_chinese(number, words):
    assert chinese_number(number) == words
