"""`load_divisions`: the packaged table, reloads, and files that must load nothing."""

from __future__ import annotations

import io
import time

import pytest
from django.core.management import CommandError, call_command

from departments.loading import DEFAULT_FILE, load_divisions
from departments.models import Department, Level
from departments.stations import ensure_demo_stations

HEADER = "adcode,name,longitude,latitude\n"


def write_table(tmp_path, *rows: str, header: str = HEADER):
    path = tmp_path / "divisions.csv"
    path.write_text(header + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


def test_the_packaged_table_builds_the_whole_country_in_seconds(db):
    started = time.monotonic()
    summary = load_divisions()
    elapsed = time.monotonic() - started

    assert elapsed < 5
    assert Department.objects.get(code="100000").name == "国家市场监督管理总局"
    assert Department.objects.filter(level=Level.PROVINCE).count() >= 31
    assert Department.objects.filter(is_county_level=True).count() >= 2800
    assert (summary.provinces, summary.cities, summary.counties) == (34, 345, 3048)
    assert summary.created == Department.objects.count() == 1 + 34 + 345 + 3048
    west_lake = Department.objects.get(code="330106")
    assert (west_lake.name, west_lake.level, west_lake.parent_id) == ("西湖区", "county", "330100")
    assert west_lake.path == "100000/330000/330100/330106/"
    assert west_lake.is_county_level
    assert summary.skipped == 2  # 苏鲁交界, 海域: statistical rows, no bureau
    assert not Department.objects.filter(code__in=["990000", "999900"]).exists()


def test_irregular_divisions_get_the_nearest_parent_and_the_right_competence(db):
    load_divisions()

    xiantao = Department.objects.get(code="429004")  # no 429000 row: under the province
    assert (xiantao.parent_id, xiantao.path) == ("420000", "100000/420000/429004/")
    flat = set(
        Department.objects.filter(level=Level.CITY, is_county_level=True).values_list(
            "code", flat=True
        )
    )
    assert {"441900", "442000", "460400", "620200"} <= flat
    assert "330100" not in flat
    beijing = Department.objects.get(code="110100")
    assert (beijing.name, beijing.parent_id, beijing.is_county_level) == ("北京市", "110000", False)


def test_a_second_load_restores_names_and_keeps_stations(db):
    load_divisions()
    stations = ensure_demo_stations(Department.objects.get(code="330106"))
    Department.objects.filter(code="330102").update(name="改过的名字")
    count = Department.objects.count()

    summary = load_divisions()

    assert Department.objects.count() == count
    assert (summary.created, summary.updated) == (0, 1)
    assert Department.objects.get(code="330102").name == "上城区"
    for station in stations:
        reloaded = Department.objects.get(code=station.code)
        assert reloaded.parent_id == "330106"
        assert reloaded.path == f"100000/330000/330100/330106/{station.code}/"


def test_loading_over_the_test_tree_keeps_its_stations(tree):
    load_divisions()
    station = Department.objects.get(code=tree.station.code)
    assert station.name == "西湖区文新市场监管所"
    assert station.path == "100000/330000/330100/330106/330106001/"
    assert Department.objects.filter(level=Level.STATION).count() == 3


def test_a_county_that_gains_a_city_takes_its_stations_along(db, tmp_path):
    load_divisions(path=write_table(tmp_path, "420000000000,湖北省,,", "429004000000,仙桃市,,"))
    (station,) = ensure_demo_stations(Department.objects.get(code="429004"), count=1)

    summary = load_divisions(
        path=write_table(
            tmp_path, "420000000000,湖北省,,", "429000000000,省直辖,,", "429004000000,仙桃市,,"
        )
    )

    assert summary.paths_fixed == 1
    assert Department.objects.get(code="429004").path == "100000/420000/429000/429004/"
    assert Department.objects.get(code=station.code).path == (
        f"100000/420000/429000/429004/{station.code}/"
    )
    assert Department.objects.get(code="429000").is_county_level is False


def test_a_bad_row_in_the_middle_loads_nothing(db, tmp_path):
    path = write_table(
        tmp_path,
        "330000000000,浙江省,,",
        "330100000000,杭州市,,",
        "33010X000000,坏行,,",
        "330106000000,西湖区,,",
    )
    with pytest.raises(CommandError, match="第 4 行"):
        call_command("load_divisions", file=path)
    assert not Department.objects.exists()


def test_a_bad_file_leaves_a_loaded_tree_as_it_was(tree, tmp_path):
    path = write_table(tmp_path, "330000000000,浙江,,", "330100000000,,,")
    with pytest.raises(CommandError, match="第 3 行"):
        call_command("load_divisions", file=path)
    assert Department.objects.get(code="330000").name == "浙江省"
    assert Department.objects.count() == 8


@pytest.mark.parametrize(
    ("rows", "header", "message"),
    [
        (["330000000000,浙江省,,", "330000000000,浙江省,,"], HEADER, "重复"),
        (["330100000000,杭州市,,"], HEADER, "上级省级区划 330000 不存在"),
        (["330100123456,某街道,,"], HEADER, "后 6 位为 0"),
        (["100000000000,国家,,"], HEADER, "不是省、市、县级区划"),
        (["330000000000,浙江省,,"], "code,title\n", "表头"),
        ([], HEADER, "没有任何区划"),
    ],
)
def test_a_malformed_file_is_refused_with_a_clear_message(db, tmp_path, rows, header, message):
    path = write_table(tmp_path, *rows, header=header)
    with pytest.raises(CommandError, match=message):
        call_command("load_divisions", file=path)
    assert not Department.objects.exists()


def test_a_missing_file_is_a_command_error(db, tmp_path):
    with pytest.raises(CommandError, match="无法读取区划文件"):
        call_command("load_divisions", file=tmp_path / "nope.csv")


def test_a_file_that_is_not_utf8_is_a_command_error(db, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes((HEADER + "330000000000,浙江省,,\n").encode("gbk"))
    with pytest.raises(CommandError, match="UTF-8"):
        call_command("load_divisions", file=path)


def test_the_command_prints_a_summary(db):
    out = io.StringIO()
    call_command("load_divisions", stdout=out)
    assert "34 个省级、345 个地级（其中 6 个不设区县）、3048 个县级" in out.getvalue()
    assert "新增 3428" in out.getvalue()


def test_the_packaged_table_ships_with_its_licence():
    assert (DEFAULT_FILE.parent / "LICENSE-cpca.txt").read_text().startswith("The MIT License")


def test_a_reload_that_moves_a_county_moves_its_figures_along(db, tmp_path):
    """The rollups (overview figures, list counters) are kept along the paths: a department put
    under another parent by a reload takes them to its new ancestors (`department_moved`)."""
    from supervision import rollups
    from supervision.models import Rollup

    load_divisions(path=write_table(tmp_path, "420000000000,湖北省,,", "429004000000,仙桃市,,"))
    county = Department.objects.get(code="429004")
    cell = rollups.Counts({(rollups.HELD, rollups.NOW, "complaint/submitted"): (3, rollups.ZERO)})
    rollups.upsert(rollups.spread(county.path, cell))

    load_divisions(
        path=write_table(
            tmp_path, "420000000000,湖北省,,", "429000000000,省直辖,,", "429004000000,仙桃市,,"
        )
    )

    held = Rollup.objects.filter(metric=rollups.HELD).exclude(n=0)
    assert sorted(held.values_list("unit_id", "child", "n")) == [
        ("100000", "420000", 3),
        ("420000", "429000", 3),
        ("429000", "429004", 3),
        ("429004", "", 3),
    ]
