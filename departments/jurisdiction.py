"""Which county-level department is competent: addresses to counties, and the jurisdiction rules.

A complaint always goes to a county-level department (WORKFLOW.md "Jurisdiction"); the consumer
chooses among the competent ones and the system suggests them from the addresses given. Addresses
are matched by name against the Department table, read once into an in-memory index:

- provinces and cities also match by short name ("浙江", "杭州", "内蒙古", "黔东南");
- counties match only by full name: "西湖" could be the lake, "西湖区" is a district;
- a county name shared by several places (西湖区 in Hangzhou and Nanchang) is settled by the
  province or city written before it, and is an AmbiguousAddress when nothing settles it.
"""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from departments.models import Department, Level

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PROVINCE_SHORT_NAMES = {
    "内蒙古自治区": "内蒙古",
    "广西壮族自治区": "广西",
    "西藏自治区": "西藏",
    "新疆维吾尔自治区": "新疆",
    "宁夏回族自治区": "宁夏",
}
PROVINCE_SUFFIXES = ("特别行政区", "自治区", "省", "市")
CITY_SUFFIXES = ("自治州", "地区", "盟", "市")
# The 55 recognised minority peoples, space-separated.
MINORITY_NAMES = (
    "蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 "
    "拉祜 水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 "
    "塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺"
)
# An autonomous prefecture's short name is what comes before its peoples: 黔东南苗族侗族自治州.
ETHNIC_MARKERS = (
    *(f"{people}族" for people in MINORITY_NAMES.split(" ")),
    *("蒙古", "哈萨克", "柯尔克孜"),  # also written without 族
)
ADDRESS_PREFIXES = ("中华人民共和国", "中国")
SEPARATORS = re.compile(r"[\s,，、;；:：/|·()（）\-]+")  # 浙江省，杭州市 西湖区
LEADING_NON_HAN = re.compile(r"^[^\u4e00-\u9fff]+")
INDEX_TTL_SECONDS = 300.0
INDEXED_LEVELS = (Level.PROVINCE, Level.CITY, Level.COUNTY)


# --- errors ---------------------------------------------------------------------------------


class AddressError(Exception):
    """An address that does not lead to one county; `code` is the API error code."""

    code = "address_error"

    def __init__(self, address: str, message: str) -> None:
        super().__init__(message)
        self.address = address
        self.message = message


class MissingAddress(AddressError):
    code = "missing_address"

    def __init__(self, address: str = "") -> None:
        super().__init__(address, _("未填写地址。"))


class UnknownAddress(AddressError):
    code = "unknown_address"

    def __init__(self, address: str, *, near: Department | None = None) -> None:
        super().__init__(address, _("无法从地址中识别区县，请从列表中选择受理部门。"))
        self.near = near  # the deepest province or city recognised, when they agree


class AmbiguousAddress(AddressError):
    code = "ambiguous_address"

    def __init__(self, address: str, candidates: list[Department]) -> None:
        super().__init__(
            address, _("地址中的区县对应多个地方，请补充省、市名称或从候选部门中选择。")
        )
        self.candidates = candidates


# --- the name index -------------------------------------------------------------------------


def province_names(name: str) -> set[str]:
    names = {name}
    if name in PROVINCE_SHORT_NAMES:
        names.add(PROVINCE_SHORT_NAMES[name])
    else:
        names.add(_strip_suffix(name, PROVINCE_SUFFIXES))
    return {n for n in names if len(n) >= 2}


def city_names(name: str) -> set[str]:
    short = _strip_suffix(name, CITY_SUFFIXES)
    if name.endswith("自治州"):
        short = _before_ethnic_marker(short)
    return {n for n in (name, short) if len(n) >= 2}


def _strip_suffix(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _before_ethnic_marker(name: str) -> str:
    positions = [name.find(marker) for marker in ETHNIC_MARKERS]
    cut = min((p for p in positions if p > 0), default=len(name))
    return name[:cut]


class _NameTable:
    """Names of one level; `matches_at` finds every name that starts at a position."""

    def __init__(self) -> None:
        self.names: dict[str, list[Department]] = defaultdict(list)
        self.lengths: list[int] = []

    def add(self, name: str, department: Department) -> None:
        self.names[name].append(department)

    def freeze(self) -> None:
        self.lengths = sorted({len(name) for name in self.names}, reverse=True)

    def matches_at(
        self, text: str, pos: int, *, within: Department | None
    ) -> list[tuple[Department, int]]:
        found = []
        for length in self.lengths:
            for department in self.names.get(text[pos : pos + length], ()):
                if within is None or department.is_within(within):
                    found.append((department, pos + length))
        return found


class NameIndex:
    def __init__(self, departments: Iterable[Department]) -> None:
        self.by_code: dict[str, Department] = {}
        self.provinces = _NameTable()
        self.cities = _NameTable()
        self.counties = _NameTable()
        for department in departments:
            self.by_code[department.code] = department
            if department.level == Level.PROVINCE:
                for name in province_names(department.name):
                    self.provinces.add(name, department)
            elif department.level == Level.CITY:
                for name in city_names(department.name):
                    self.cities.add(name, department)
            elif department.level == Level.COUNTY:
                self.counties.add(department.name, department)
        for table in (self.provinces, self.cities, self.counties):
            table.freeze()

    def ancestor(self, department: Department, level: Level) -> Department | None:
        for code in department.ancestor_codes():
            found = self.by_code.get(code)
            if found is not None and found.level == level:
                return found
        return None


class _IndexCache:
    """One index per process, rebuilt after a local change to the tree (signals, loads) or,
    for changes made by other processes, after INDEX_TTL_SECONDS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index: NameIndex | None = None
        self._built_at = 0.0
        self._generation = 0

    def get(self) -> NameIndex:
        with self._lock:
            index, generation = self._index, self._generation
            if index is not None and time.monotonic() - self._built_at < INDEX_TTL_SECONDS:
                return index
        index = NameIndex(Department.objects.filter(is_active=True, level__in=INDEXED_LEVELS))
        with self._lock:
            if generation == self._generation:
                self._index, self._built_at = index, time.monotonic()
        return index

    def clear(self) -> None:
        with self._lock:
            self._index = None
            self._generation += 1


_cache = _IndexCache()


def name_index() -> NameIndex:
    return _cache.get()


def invalidate_index(**_signal_kwargs: object) -> None:
    """Forget the name index; a signal receiver for Department saves and deletes."""
    _cache.clear()


# --- address resolution ---------------------------------------------------------------------


@dataclass(frozen=True)
class Resolution:
    """The county-level department for an address, with the province and city above it
    (`city` is None for counties directly under a province, e.g. 仙桃市)."""

    county: Department
    city: Department | None
    province: Department | None

    @property
    def department(self) -> Department:
        return self.county


@dataclass(frozen=True)
class _Reading:
    county: Department
    end: int


def normalise_address(address: str) -> str:
    text = LEADING_NON_HAN.sub("", SEPARATORS.sub("", address or ""))
    for prefix in ADDRESS_PREFIXES:
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def resolve_address(address: str) -> Resolution:
    """The county-level department for `address`; raises MissingAddress, UnknownAddress or
    AmbiguousAddress (with the candidates) when there is not exactly one."""
    text = normalise_address(address)
    if not text:
        raise MissingAddress(address)
    index = name_index()
    readings, recognised = _readings(index, text)
    if not readings:
        raise UnknownAddress(address, near=_deepest_on_one_line(recognised))
    longest = max(reading.end for reading in readings)
    counties = {r.county.code: r.county for r in readings if r.end == longest}
    if len(counties) > 1:
        raise AmbiguousAddress(address, [counties[code] for code in sorted(counties)])
    county = next(iter(counties.values()))
    return Resolution(
        county=county,
        city=index.ancestor(county, Level.CITY) or (county if county.level == Level.CITY else None),
        province=index.ancestor(county, Level.PROVINCE),
    )


def _readings(index: NameIndex, text: str) -> tuple[list[_Reading], set[Department]]:
    """Every way to read `text` as [province] [city] county, each part where the previous one
    ended; a county-level city (东莞) may stand for the county. Also what was recognised above
    county level when no county followed."""
    readings: list[_Reading] = []
    recognised: set[Department] = set()
    for province, after_province in _optional(index.provinces, text, 0, None):
        for city, after_city in _optional(index.cities, text, after_province, province):
            within = city or province
            found = index.counties.matches_at(text, after_city, within=within)
            readings.extend(_Reading(county, end) for county, end in found)
            if not found and city is not None and city.is_county_level:
                readings.append(_Reading(city, after_city))
            elif not found and within is not None:
                recognised.add(within)
    return readings, recognised


def _deepest_on_one_line(departments: set[Department]) -> Department | None:
    """浙江省杭州市 → 杭州市; 浙江南昌市 (two places) → None."""
    if not departments:
        return None
    deepest = max(departments, key=lambda d: len(d.path))
    return deepest if all(deepest.is_within(d) for d in departments) else None


def _optional(
    table: _NameTable, text: str, pos: int, within: Department | None
) -> list[tuple[Department | None, int]]:
    skipped: list[tuple[Department | None, int]] = [(None, pos)]
    return skipped + list(table.matches_at(text, pos, within=within))


# --- jurisdiction rules ---------------------------------------------------------------------


class Basis(models.TextChoices):
    OPERATOR_LOCATION = "operator_location", gettext_lazy("经营者所在地")
    SELLER_DISPLAYED_ADDRESS = "seller_displayed_address", gettext_lazy("平台内经营者展示的地址")
    SELLER_BUSINESS_LOCATION = "seller_business_location", gettext_lazy("平台内经营者实际经营地")
    PLATFORM_DOMICILE = "platform_domicile", gettext_lazy("第三方平台所在地")
    ACT_LOCATION = "act_location", gettext_lazy("违法行为发生地")


class AddressRole(models.TextChoices):
    RESPONDENT = "respondent", gettext_lazy("被投诉（举报）人地址")
    PLATFORM = "platform", gettext_lazy("平台地址")


@dataclass(frozen=True)
class JurisdictionRule:
    basis: Basis
    address: AddressRole
    regulation: StrOrPromise
    article: StrOrPromise

    @property
    def legal_basis(self) -> str:
        return f"{self.regulation}{self.article}"


O121 = gettext_lazy("《市场监督管理投诉举报处理办法》")
O20 = gettext_lazy("《市场监督管理投诉举报处理暂行办法》")
ART_12 = gettext_lazy("第十二条")
ART_13 = gettext_lazy("第十三条")
ART_23 = gettext_lazy("第二十三条")
ART_24 = gettext_lazy("第二十四条")
ART_29 = gettext_lazy("第二十九条")
ART_31 = gettext_lazy("第三十一条")
_Rule, _R, _P = JurisdictionRule, AddressRole.RESPONDENT, AddressRole.PLATFORM
# (kind, rules, seller on a platform) -> the competent places, in the order they are suggested.
# Article numbers are data: a corrected citation is an edit here (WORKFLOW.md).
JURISDICTION_RULES: dict[tuple[str, str, bool], tuple[JurisdictionRule, ...]] = {
    ("complaint", "o121", False): (_Rule(Basis.OPERATOR_LOCATION, _R, O121, ART_13),),
    ("complaint", "o121", True): (
        _Rule(Basis.SELLER_DISPLAYED_ADDRESS, _R, O121, ART_13),
        _Rule(Basis.PLATFORM_DOMICILE, _P, O121, ART_13),
    ),
    ("complaint", "o20", False): (_Rule(Basis.OPERATOR_LOCATION, _R, O20, ART_12),),
    ("complaint", "o20", True): (
        _Rule(Basis.SELLER_BUSINESS_LOCATION, _R, O20, ART_12),
        _Rule(Basis.PLATFORM_DOMICILE, _P, O20, ART_12),
    ),
    ("report", "o121", False): (_Rule(Basis.ACT_LOCATION, _R, O121, ART_29),),
    ("report", "o121", True): (
        _Rule(Basis.SELLER_BUSINESS_LOCATION, _R, O121, ART_31),
        _Rule(Basis.PLATFORM_DOMICILE, _P, O121, ART_31),
    ),
    ("report", "o20", False): (_Rule(Basis.ACT_LOCATION, _R, O20, ART_23),),
    ("report", "o20", True): (
        _Rule(Basis.SELLER_BUSINESS_LOCATION, _R, O20, ART_24),
        _Rule(Basis.PLATFORM_DOMICILE, _P, O20, ART_24),
    ),
}
# A consultation is about an operator: it goes where a complaint about that operator would.
RULE_KIND = {"complaint": "complaint", "consultation": "complaint", "report": "report"}


@dataclass(frozen=True)
class Suggestion:
    """One competent place. When its address cannot be resolved, `department` is None and
    `problem` says why (with candidates when ambiguous); the caller decides what to show."""

    basis: Basis
    address_role: AddressRole
    address: str
    legal_basis: str
    resolution: Resolution | None
    problem: AddressError | None

    @property
    def department(self) -> Department | None:
        return self.resolution.county if self.resolution else None

    @property
    def explanation(self) -> str:
        return str(self.basis.label)


def suggest_jurisdictions(
    *,
    rules: str,
    kind: str,
    respondent_address: str,
    platform_address: str | None = None,
    seller_on_platform: bool = False,
) -> list[Suggestion]:
    """The county-level departments competent for a case, in the order the rules name them,
    without repeating a department."""
    table = JURISDICTION_RULES.get((RULE_KIND.get(kind, ""), rules, seller_on_platform))
    if table is None:
        raise ValueError(f"no jurisdiction rules for kind={kind!r}, rules={rules!r}")
    addresses = {_R: respondent_address or "", _P: platform_address or ""}
    suggestions: list[Suggestion] = []
    seen: set[str] = set()
    for rule in table:
        suggestion = _suggest(rule, addresses[rule.address])
        department = suggestion.department
        if department is not None and department.code in seen:
            continue
        if department is not None:
            seen.add(department.code)
        suggestions.append(suggestion)
    return suggestions


def _suggest(rule: JurisdictionRule, address: str) -> Suggestion:
    resolution: Resolution | None = None
    problem: AddressError | None = None
    try:
        resolution = resolve_address(address)
    except AddressError as exc:
        problem = exc
    return Suggestion(
        basis=rule.basis,
        address_role=rule.address,
        address=address,
        legal_basis=rule.legal_basis,
        resolution=resolution,
        problem=problem,
    )
