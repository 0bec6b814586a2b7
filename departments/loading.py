"""Load the national division table into the Department tree (`manage.py load_divisions`).

The packaged table (`data/divisions.csv`, see `data/README.md`) lists provinces, prefecture-level
cities and county-level divisions by GB/T 2260 code. Stations are not in it: they belong to the
county bureaus and survive every reload. The load is one transaction, validated before any write,
and uses bulk writes, so a reload of the whole country takes about a second and a bad file changes
nothing.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.jurisdiction import invalidate_index
from departments.models import LEVEL_DEPTH, NATIONAL_CODE, Department, Level
from departments.naming import clear_names
from departments.signals import department_moved

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "divisions.csv"
NATIONAL_NAME = "国家市场监督管理总局"
# Rows of the table that are statistical areas, not divisions with a market-regulation bureau.
NOT_DIVISIONS = frozenset({"990000", "999900"})
ADCODE = re.compile(r"\d{6}(?:\d{6})?")
SAVED_FIELDS = ["name", "level", "parent", "path", "is_county_level", "updated_at"]
BATCH_SIZE = 500


class DivisionFileError(Exception):
    """The division file cannot be read or holds a bad row; nothing has been written."""


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    line: int

    @property
    def level(self) -> Level:
        return level_of(self.code)


@dataclass(frozen=True)
class LoadSummary:
    provinces: int
    cities: int
    counties: int
    county_level_cities: int
    created: int
    updated: int
    unchanged: int
    skipped: int
    paths_fixed: int


def level_of(code: str) -> Level:
    """GB/T 2260: xx0000 is a province, xxxx00 a prefecture-level city, anything else a county."""
    if code.endswith("0000"):
        return Level.PROVINCE
    if code.endswith("00"):
        return Level.CITY
    return Level.COUNTY


def read_divisions(path: Path) -> list[Division]:
    """Parse and check the whole file; raise DivisionFileError naming the first bad line."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _parse_rows(csv.DictReader(handle))
    except OSError as exc:
        raise DivisionFileError(
            _("无法读取区划文件 %(path)s：%(reason)s") % {"path": path, "reason": exc.strerror}
        ) from exc
    except UnicodeDecodeError as exc:
        raise DivisionFileError(_("区划文件 %(path)s 不是 UTF-8 编码。") % {"path": path}) from exc
    except csv.Error as exc:
        raise DivisionFileError(_("区划文件格式错误：%(reason)s") % {"reason": exc}) from exc


def _parse_rows(reader: csv.DictReader[str]) -> list[Division]:
    if not reader.fieldnames or not {"adcode", "name"} <= set(reader.fieldnames):
        raise DivisionFileError(_("区划文件第一行必须是表头，且包含 adcode 和 name 两列。"))
    divisions: list[Division] = []
    seen: set[str] = set()
    for row in reader:
        division = _parse_row(row, reader.line_num)
        if division.code in seen:
            raise _row_error(
                reader.line_num, _("区划代码 %(code)s 重复。") % {"code": division.code}
            )
        seen.add(division.code)
        divisions.append(division)
    if not divisions:
        raise DivisionFileError(_("区划文件中没有任何区划。"))
    return divisions


def _parse_row(row: dict[str | None, str | None], line: int) -> Division:
    adcode = (row.get("adcode") or "").strip()
    name = (row.get("name") or "").strip()
    if not ADCODE.fullmatch(adcode) or adcode[6:].strip("0"):
        raise _row_error(
            line, _("区划代码“%(code)s”应为 6 位，或后 6 位为 0 的 12 位数字。") % {"code": adcode}
        )
    code = adcode[:6]
    if code == NATIONAL_CODE or code.startswith("00"):
        raise _row_error(line, _("区划代码 %(code)s 不是省、市、县级区划。") % {"code": code})
    if not name:
        raise _row_error(line, _("区划 %(code)s 缺少名称。") % {"code": code})
    return Division(code=code, name=name, line=line)


def _row_error(line: int, message: str) -> DivisionFileError:
    return DivisionFileError(_("第 %(line)d 行：%(message)s") % {"line": line, "message": message})


def load_divisions(*, path: Path = DEFAULT_FILE) -> LoadSummary:
    """Create or refresh national, provinces, cities and counties from `path`; idempotent."""
    divisions = read_divisions(path)
    kept = [d for d in divisions if d.code not in NOT_DIVISIONS]
    with transaction.atomic():
        summary = _apply(kept, skipped=len(divisions) - len(kept))
    invalidate_index()
    clear_names()
    return summary


def _apply(divisions: list[Division], *, skipped: int) -> LoadSummary:
    existing = {d.code: d for d in Department.objects.all()}
    ordered = sorted(divisions, key=lambda d: (LEVEL_DEPTH[d.level], d.code))
    parents = _parent_codes(ordered, existing)
    with_counties = _cities_with_counties(ordered, parents, existing)
    paths = {NATIONAL_CODE: f"{NATIONAL_CODE}/"}
    wanted = [_national()]
    for division in ordered:
        parent = parents[division.code]
        paths[division.code] = f"{paths.get(parent) or existing[parent].path}{division.code}/"
        wanted.append(
            Department(
                code=division.code,
                name=division.name,
                level=division.level,
                parent_id=parent,
                path=paths[division.code],
                is_county_level=_is_county_level(division, with_counties),
            )
        )
    moves = _moves(wanted, existing)
    created, updated = _save(wanted, existing)
    paths_fixed = _fix_descendant_paths(existing, paths)
    for code, old_path, new_path in moves:
        department_moved.send(sender=Department, code=code, old_path=old_path, new_path=new_path)
    return LoadSummary(
        provinces=sum(d.level == Level.PROVINCE for d in divisions),
        cities=sum(d.level == Level.CITY for d in divisions),
        counties=sum(d.level == Level.COUNTY for d in divisions),
        county_level_cities=sum(
            d.level == Level.CITY and d.code not in with_counties for d in divisions
        ),
        created=created,
        updated=updated,
        unchanged=len(wanted) - created - updated,
        skipped=skipped,
        paths_fixed=paths_fixed,
    )


def _national() -> Department:
    return Department(
        code=NATIONAL_CODE,
        name=NATIONAL_NAME,
        level=Level.NATIONAL,
        parent_id=None,
        path=f"{NATIONAL_CODE}/",
        is_county_level=False,
    )


def _parent_codes(ordered: list[Division], existing: dict[str, Department]) -> dict[str, str]:
    """The nearest division above each row: a county without a city row (仙桃 429004) hangs
    under its province. Parents may come from the file or be already loaded."""
    available = {d.code for d in ordered} | {
        code for code, d in existing.items() if d.level in (Level.PROVINCE, Level.CITY)
    }
    parents: dict[str, str] = {}
    for division in ordered:
        province = f"{division.code[:2]}0000"
        city = f"{division.code[:4]}00"
        if division.level == Level.PROVINCE:
            parents[division.code] = NATIONAL_CODE
        elif division.level == Level.COUNTY and city in available:
            parents[division.code] = city
        elif province in available:
            parents[division.code] = province
        else:
            raise _row_error(
                division.line,
                _("区划 %(code)s 的上级省级区划 %(province)s 不存在。")
                % {"code": division.code, "province": province},
            )
    return parents


def _cities_with_counties(
    ordered: list[Division], parents: dict[str, str], existing: dict[str, Department]
) -> set[str]:
    in_file = {d.code for d in ordered}
    from_file = {parents[d.code] for d in ordered if d.level == Level.COUNTY}
    kept = {
        d.parent_id
        for d in existing.values()
        if d.level == Level.COUNTY and d.code not in in_file and d.parent_id
    }
    return from_file | kept


def _is_county_level(division: Division, with_counties: set[str]) -> bool:
    """Counties, and cities with no county below them (东莞, 中山, 儋州, 嘉峪关), handle
    complaints themselves."""
    if division.level == Level.COUNTY:
        return True
    return division.level == Level.CITY and division.code not in with_counties


def _moves(wanted: list[Department], existing: dict[str, Department]) -> list[tuple[str, str, str]]:
    """(code, old path, new path) of each department put under another parent, shallowest
    first, as `department_moved` tells them: the old path of each is where the figures kept
    along the paths have it once the moves before it were followed."""
    changed = sorted(
        (d for d in wanted if d.code in existing and existing[d.code].parent_id != d.parent_id),
        key=lambda d: (LEVEL_DEPTH[Level(d.level)], d.code),
    )
    moves: list[tuple[str, str, str]] = []
    for department in changed:
        old_path = existing[department.code].path
        for _code, before, after in moves:
            if old_path.startswith(before):
                old_path = after + old_path[len(before) :]
        moves.append((department.code, old_path, department.path))
    return moves


def _save(wanted: list[Department], existing: dict[str, Department]) -> tuple[int, int]:
    now = timezone.now()
    to_create: list[Department] = []
    to_update: list[Department] = []
    for department in wanted:
        current = existing.get(department.code)
        if current is None:
            to_create.append(department)
        elif _differs(current, department):
            for field in ("name", "level", "parent_id", "path", "is_county_level"):
                setattr(current, field, getattr(department, field))
            current.updated_at = now
            to_update.append(current)
    Department.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    Department.objects.bulk_update(to_update, SAVED_FIELDS, batch_size=BATCH_SIZE)
    return len(to_create), len(to_update)


def _differs(current: Department, wanted: Department) -> bool:
    return any(
        getattr(current, field) != getattr(wanted, field)
        for field in ("name", "level", "parent_id", "path", "is_county_level")
    )


def _fix_descendant_paths(existing: dict[str, Department], paths: dict[str, str]) -> int:
    """Stations and any other rows not in the file keep their place; only their materialised path
    follows a parent that moved."""
    others = sorted(
        (d for code, d in existing.items() if code not in paths),
        key=lambda d: (LEVEL_DEPTH.get(Level(d.level), 9), d.code),
    )
    moved: list[Department] = []
    for department in others:
        parent_path = _current_path(department.parent_id, existing, paths)
        path = f"{parent_path}{department.code}/"
        paths[department.code] = path
        if path != department.path:
            department.path = path
            moved.append(department)
    Department.objects.bulk_update(moved, ["path"], batch_size=BATCH_SIZE)
    return len(moved)


def _current_path(code: str | None, existing: dict[str, Department], paths: dict[str, str]) -> str:
    if code is None:
        return ""
    return paths.get(code) or existing[code].path


def summary_lines(summary: LoadSummary) -> Iterable[str]:
    yield _(
        "区划：%(provinces)d 个省级、%(cities)d 个地级（其中 %(flat)d 个不设区县）、"
        "%(counties)d 个县级。"
    ) % {
        "provinces": summary.provinces,
        "cities": summary.cities,
        "flat": summary.county_level_cities,
        "counties": summary.counties,
    }
    yield _("部门：新增 %(created)d，更新 %(updated)d，未变 %(unchanged)d。") % {
        "created": summary.created,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
    }
    if summary.skipped:
        yield _("跳过 %(n)d 行非行政区划（如“海域”）。") % {"n": summary.skipped}
    if summary.paths_fixed:
        yield _("随上级调整路径的下级部门（如市场监管所）：%(n)d 个。") % {"n": summary.paths_fixed}
