"""Stations (市场监管所): the county bureaus' dispatched offices, one level below a county.

They are not in the national division table, so they come from a CSV file per province
(`manage.py import_stations`) or, for the demo, from `ensure_demo_stations`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.models import Department, Level

STATION_CODE = re.compile(r"\d{9}")
COUNTY_CODE = re.compile(r"\d{6}")
CHINESE_DIGITS = "零一二三四五六七八九"
MAX_DEMO_STATIONS = 99


class StationFileError(Exception):
    """A station file that cannot be imported; nothing has been written."""


@dataclass(frozen=True)
class StationRow:
    code: str
    name: str
    county: str
    line: int


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int
    unchanged: int


def read_station_file(path: Path) -> list[StationRow]:
    """Parse `code,name,county` rows, checking their shape (not yet the database)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"code", "name", "county"} <= set(reader.fieldnames):
                raise StationFileError(_("所站文件第一行必须是表头 code,name,county。"))
            return [_parse_row(row, reader.line_num) for row in reader]
    except OSError as exc:
        raise StationFileError(
            _("无法读取所站文件 %(path)s：%(reason)s") % {"path": path, "reason": exc.strerror}
        ) from exc
    except UnicodeDecodeError as exc:
        raise StationFileError(_("所站文件 %(path)s 不是 UTF-8 编码。") % {"path": path}) from exc
    except csv.Error as exc:
        raise StationFileError(_("所站文件格式错误：%(reason)s") % {"reason": exc}) from exc


def _parse_row(row: dict[str | None, str | None], line: int) -> StationRow:
    code = (row.get("code") or "").strip()
    name = (row.get("name") or "").strip()
    county = (row.get("county") or "").strip()
    if not STATION_CODE.fullmatch(code):
        raise _line_error(line, _("所站代码“%(code)s”应为 9 位数字。") % {"code": code})
    if not COUNTY_CODE.fullmatch(county) or not code.startswith(county):
        raise _line_error(
            line,
            _("所站代码 %(code)s 应以其县级部门代码开头，而 county 列为“%(county)s”。")
            % {"code": code, "county": county},
        )
    if not name:
        raise _line_error(line, _("所站 %(code)s 缺少名称。") % {"code": code})
    return StationRow(code=code, name=name, county=county, line=line)


def _line_error(line: int, message: str) -> StationFileError:
    return StationFileError(_("第 %(line)d 行：%(message)s") % {"line": line, "message": message})


@transaction.atomic
def import_stations(rows: list[StationRow]) -> ImportSummary:
    """Create or rename the stations in `rows`, all or none."""
    counties = Department.objects.in_bulk({row.county for row in rows})
    existing = Department.objects.in_bulk({row.code for row in rows})
    seen: set[str] = set()
    to_create: list[Department] = []
    to_update: list[Department] = []
    for row in rows:
        county = _check_row(row, counties, existing, seen)
        current = existing.get(row.code)
        if current is None:
            to_create.append(_new_station(code=row.code, name=row.name, county=county))
        elif current.name != row.name:
            current.name = row.name
            current.updated_at = timezone.now()
            to_update.append(current)
    Department.objects.bulk_create(to_create, batch_size=500)
    Department.objects.bulk_update(to_update, ["name", "updated_at"], batch_size=500)
    return ImportSummary(
        created=len(to_create),
        updated=len(to_update),
        unchanged=len(rows) - len(to_create) - len(to_update),
    )


def _check_row(
    row: StationRow,
    counties: dict[str, Department],
    existing: dict[str, Department],
    seen: set[str],
) -> Department:
    if row.code in seen:
        raise _line_error(row.line, _("所站代码 %(code)s 重复。") % {"code": row.code})
    seen.add(row.code)
    county = counties.get(row.county)
    if county is None:
        raise _line_error(row.line, _("县级部门 %(county)s 不存在。") % {"county": row.county})
    if not county.is_county_level:
        raise _line_error(
            row.line, _("%(county)s 不是县级部门，不能下设所站。") % {"county": county}
        )
    current = existing.get(row.code)
    if current is not None and current.level != Level.STATION:
        raise _line_error(row.line, _("代码 %(code)s 已被其他部门使用。") % {"code": row.code})
    return county


def _new_station(*, code: str, name: str, county: Department) -> Department:
    # bulk_create skips Department.save(), which computes the path: compute it here.
    return Department(
        code=code,
        name=name,
        level=Level.STATION,
        parent=county,
        path=f"{county.path}{code}/",
        is_county_level=False,
    )


def ensure_demo_stations(county: Department, count: int = 2) -> list[Department]:
    """`count` stations under `county` with predictable codes (county + 001, 002, ...) and names
    (西湖区第一市场监管所); existing ones are kept as they are. Idempotent."""
    if not county.is_county_level:
        raise ValueError(f"{county} is not a county-level department")
    if not 1 <= count <= MAX_DEMO_STATIONS:
        raise ValueError(f"count must be between 1 and {MAX_DEMO_STATIONS}")
    stations = []
    for number in range(1, count + 1):
        code = f"{county.code}{number:03d}"
        name = _("%(county)s第%(number)s市场监管所") % {
            "county": county.name,
            "number": chinese_number(number),
        }
        station, _created = Department.objects.get_or_create(
            code=code, defaults={"name": name, "level": Level.STATION, "parent": county}
        )
        stations.append(station)
    return stations


def chinese_number(number: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十 (1 to 99)."""
    if not 1 <= number <= MAX_DEMO_STATIONS:
        raise ValueError(number)
    tens, ones = divmod(number, 10)
    if tens == 0:
        return CHINESE_DIGITS[ones]
    return (
        (CHINESE_DIGITS[tens] if tens > 1 else "") + "十" + (CHINESE_DIGITS[ones] if ones else "")
    )
