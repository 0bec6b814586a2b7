"""The shape of the country's cases: where, when, about what, against whom.

Shares modelled on published figures (WORKFLOW.md, "Volumes to design for"): the four largest
provinces (Guangdong, Zhejiang, Jiangsu, Shandong) file 45% of the cases; businesses are
Zipf-distributed within a province; 45% complaints, 16% reports, 39% consultations (2022);
peaks on 15 March, after Double 11 and 618, and on public holidays. Used by `ops.workload`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation

from cases.categories import category_name, category_tree
from cases.models import Channel, ClockKind, Kind
from departments.models import NATIONAL_CODE, Department, Level
from workdays.calendar import is_workday

# --- The shape of the country's cases ---------------------------------------------------------

# Share of cases by province (GB/T 2260 prefix), modelled on published provincial 12315 figures:
# the four largest file 45%. Normalised over the provinces present in the department tree.
PROVINCE_SHARES: dict[str, float] = {
    "44": 15.0, "33": 11.0, "32": 10.0, "37": 9.0,  # Guangdong, Zhejiang, Jiangsu, Shandong
    "11": 6.5, "31": 6.5, "41": 4.5, "51": 4.2, "42": 3.3, "35": 3.5, "13": 3.0, "43": 2.8,
    "34": 2.5, "61": 2.0, "50": 2.0, "21": 1.8, "12": 1.5, "36": 1.5, "45": 1.5, "53": 1.2,
    "14": 1.2, "23": 1.0, "22": 0.8, "52": 0.8, "15": 0.7, "65": 0.6, "62": 0.5, "46": 0.5,
    "64": 0.3, "63": 0.2, "54": 0.1,
}  # fmt: skip
KIND_SHARES = {Kind.COMPLAINT: 0.45, Kind.REPORT: 0.16, Kind.CONSULTATION: 0.39}
# Complaints and reports come online first; consultations mostly by phone.
CHANNEL_SHARES = {
    "filed": {"web": 0.34, "app": 0.33, "hotline": 0.22, "12345": 0.08, "letter": 0.01,
              "visit": 0.02},
    "asked": {"web": 0.15, "app": 0.15, "hotline": 0.60, "12345": 0.09, "visit": 0.01},
}  # fmt: skip
CATEGORY_WEIGHTS = {
    "G01": 9, "G02": 8, "G04": 5, "G05": 8, "G08": 7, "G09": 4, "G10": 5, "G15": 5, "G16": 3,
    "S01": 7, "S02": 6, "S03": 8, "S04": 5, "S05": 4, "S07": 4, "S11": 5, "S14": 4, "S25": 5,
}  # fmt: skip
OTHER_CATEGORY_WEIGHT = 1.5
# Hour of receipt (0-23): online filing peaks mid-morning and in the evening.
HOUR_WEIGHTS = (1, 1, 0.5, 0.3, 0.3, 0.5, 1, 3, 6, 9, 10, 9, 6, 7, 9, 9, 8, 7, 6, 6, 7, 7, 5, 3)
# (month, day) -> multiplier of the day's volume, with the days after it for shopping festivals.
PEAKS = {(3, 15): 3.0, (3, 14): 1.6, (3, 16): 1.6, (6, 18): 1.5, (11, 11): 1.8}
AFTER_DOUBLE_11 = 2.0  # 12-25 November: deliveries arrive, complaints follow
HOLIDAY = 1.3
WEEKEND = 0.8
ZIPF_EXPONENT = 1.07
BUSINESSES_PER_CASE = 0.05
CONSUMERS_PER_ONLINE_CASE = 0.5
PLATFORMS = (
    ("优品汇电商平台", "浙江省杭州市余杭区文一西路969号"),
    ("速购网", "北京市朝阳区建国路88号"),
    ("拼享购平台", "上海市长宁区娄山关路533号"),
    ("京选商城", "江苏省南京市建邺区江东中路222号"),
    ("抖品直播平台", "北京市海淀区知春路63号"),
    ("美食送外卖平台", "广东省深圳市南山区科技园路1号"),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉浩宇轩晨"
TRADE_WORDS = "顺达鑫源恒通华泰瑞丰金诚宏远佳美新科联创永盛天成广利兴隆合力"
INDUSTRY_WORDS = (
    "电器", "商贸", "通讯", "食品", "服饰", "家居", "汽车销售", "教育咨询", "网络科技",
    "餐饮管理", "旅行社", "美容美发", "健身", "物业管理", "装饰工程", "快递",
)  # fmt: skip
ROADS = (
    "人民路", "解放路", "中山路", "建设路", "新华路", "和平路", "文化路", "胜利路", "光明路",
    "长江路", "黄河路", "朝阳路", "东风路", "青年路", "工业大道",
)  # fmt: skip
DEMANDS = ("退货退款", "更换商品", "赔偿损失", "退还预付款", "维修", "履行合同约定", "三倍赔偿")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
ONLINE = ("web", "app")


# --- Calendar snapshot (workers must not touch the database) ----------------------------------


@dataclass(frozen=True)
class Workdays:
    """The working days of the years around the period, as sorted ordinals: the same answers
    as `workdays.calendar`, computed once in the main process. Answers are memoised: the
    generator asks the same few thousand questions millions of times."""

    ordinals: tuple[int, ...]
    _answers: dict[tuple[dt.date, int], dt.date] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def around(cls, first: dt.date, last: dt.date) -> Workdays:
        start, end = dt.date(first.year - 1, 1, 1), dt.date(last.year + 2, 12, 31)
        days = (start + dt.timedelta(n) for n in range((end - start).days + 1))
        return cls(tuple(day.toordinal() for day in days if is_workday(day)))

    def add(self, start: dt.date, n: int) -> dt.date:
        """The nth working day after `start` (receipt day not counted); n=0: the next one."""
        day = self._answers.get((start, n))
        if day is None:
            if n == 0:
                day = self.next(start)
            else:
                ordinal = self.ordinals[bisect_right(self.ordinals, start.toordinal()) + n - 1]
                day = dt.date.fromordinal(ordinal)
            self._answers[start, n] = day
        return day

    def next(self, day: dt.date) -> dt.date:
        return dt.date.fromordinal(self.ordinals[bisect_left(self.ordinals, day.toordinal())])

    def add_calendar(self, start: dt.date, n: int) -> dt.date:
        return self.next(start + dt.timedelta(days=n))


# --- Units, weighted choice, businesses ---------------------------------------------------


@dataclass(frozen=True)
class Unit:
    code: str
    name: str  # province + city + county, for addresses
    parent: str | None
    stations: tuple[str, ...]


class Draws(random.Random):
    """`random.Random` with the integer draws the generator makes by the hundred thousand
    written without the argument checks: the same numbers from the same seed (what Python's
    `_randbelow` does: `getrandbits` of the bound's bit length until below it)."""

    def below(self, n: int) -> int:
        """A number in [0, n), n > 0."""
        k = n.bit_length()
        r = self.getrandbits(k)
        while r >= n:
            r = self.getrandbits(k)
        return r

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:  # type: ignore[override]
        if step != 1 or type(start) is not int or (stop is not None and type(stop) is not int):
            return super().randrange(start, stop, step)
        if stop is None:
            if start <= 0:
                raise ValueError("empty range for randrange()")
            return self.below(start)
        if stop <= start:
            raise ValueError(f"empty range for randrange() ({start}, {stop})")
        return start + self.below(stop - start)

    def randint(self, a: int, b: int) -> int:
        if type(a) is int and type(b) is int and a <= b:
            return a + self.below(b - a + 1)
        return self.randrange(a, b + 1)

    def choice(self, seq: Any) -> Any:
        if not len(seq):
            raise IndexError("Cannot choose from an empty sequence")
        return seq[self.below(len(seq))]


@dataclass(frozen=True)
class Picker:
    """Weighted choice by bisect over cumulative weights."""

    items: tuple[Any, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, weights: dict[Any, float]) -> Picker:
        items = tuple(item for item, weight in weights.items() if weight > 0)
        cumulative = tuple(itertools.accumulate(weights[item] for item in items))
        return cls(items, cumulative)

    def pick(self, rng: random.Random) -> Any:
        return self.items[bisect_right(self.cumulative, rng.random() * self.cumulative[-1])]


@dataclass(frozen=True)
class BusinessRow:
    id: int
    name: str
    uscc: str
    address: str
    county: str


def day_weight(day: dt.date, holiday: bool) -> float:
    """Relative volume of a day: festivals, holidays, weekends."""
    weight = PEAKS.get((day.month, day.day), 1.0)
    if day.month == 11 and 12 <= day.day <= 25:
        weight = AFTER_DOUBLE_11
    if holiday:
        weight *= HOLIDAY
    elif day.weekday() >= 5:
        weight *= WEEKEND
    return weight


def spread(total: int, weights: Sequence[float]) -> list[int]:
    """`total` split in proportion to `weights` (largest remainder: the parts sum to total)."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(share) for share in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: (counts[i] - shares[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def day_counts(
    cases: int, until: dt.date, days: int, rng: random.Random
) -> list[tuple[dt.date, int]]:
    period = [until - dt.timedelta(days=n) for n in range(days, 0, -1)]
    weights = []
    for day in period:
        holiday = not is_workday(day) and day.weekday() < 5
        weights.append(day_weight(day, holiday) * rng.uniform(0.9, 1.1))
    return list(zip(period, spread(cases, weights), strict=True))


def load_units() -> tuple[dict[str, Unit], dict[str, list[str]]]:
    """Every active unit with its ancestors' names (for addresses) and its stations, and the
    county-level codes by province."""
    rows = list(
        Department.objects.filter(is_active=True).values_list(
            "code", "name", "level", "parent_id", "is_county_level"
        )
    )
    names = {code: name for code, name, *_ in rows}
    parents = {code: parent for code, _name, _level, parent, _county in rows}
    stations: dict[str, list[str]] = {}
    by_province: dict[str, list[str]] = {}
    for code, _name, level, parent, county_level in rows:
        if level == Level.STATION and parent:
            stations.setdefault(parent, []).append(code)
        if county_level and code[:2] in PROVINCE_SHARES and code != NATIONAL_CODE:
            by_province.setdefault(code[:2], []).append(code)
    units = {}
    for code, name, _level, parent, _county in rows:
        chain: list[str] = [name]
        above: str | None = parent
        while above and above != NATIONAL_CODE and above in names:
            chain.insert(0, names[above])
            above = parents.get(above)
        full = "".join(dict.fromkeys(chain))
        units[code] = Unit(code, full, parent, tuple(sorted(stations.get(code, ()))))
    return units, {p: sorted(codes) for p, codes in by_province.items()}


def county_pickers(by_province: dict[str, list[str]], seed: int) -> dict[str, Picker]:
    """Counties within a province: uneven (log-normal), the capital's districts busier."""
    pickers = {}
    for province, codes in by_province.items():
        weights = {}
        for code in codes:
            rng = random.Random(f"county:{seed}:{code}")
            capital = code[2:4] == "01"
            weights[code] = rng.lognormvariate(0, 0.8) * (2.0 if capital else 1.0)
        pickers[province] = Picker.of(weights)
    return pickers


def _uscc(county: str, number: int) -> str:
    digits = []
    for _ in range(8):
        number, rest = divmod(number, len(USCC_ALPHABET))
        digits.append(USCC_ALPHABET[rest])
    return f"91{county}WL{''.join(reversed(digits))}"


def businesses(
    plan_ids: dict[str, int],
    cases: int,
    provinces: Picker,
    counties: dict[str, Picker],
    units: dict[str, Unit],
    seed: int,
) -> tuple[list[BusinessRow], dict[str, Picker]]:
    """Operators by province in proportion to the cases there, each province's Zipf-ranked."""
    total = max(len(provinces.items) * 3, int(cases * BUSINESSES_PER_CASE))
    weights = [
        b - a for a, b in zip((0.0, *provinces.cumulative[:-1]), provinces.cumulative, strict=True)
    ]
    per_province = spread(total, weights)
    rows: list[BusinessRow] = []
    pickers: dict[str, Picker] = {}
    rng = random.Random(f"businesses:{seed}")
    for province, count in zip(provinces.items, per_province, strict=True):
        first = len(rows)
        for rank in range(max(count, 1)):
            county = counties[province].pick(rng)
            number = plan_ids["business"] + len(rows)
            province_name = units[f"{province}0000"].name if f"{province}0000" in units else ""
            city = units[county].name[len(province_name) :][:2] or units[county].name[:2]
            name = (
                f"{city}{rng.choice(TRADE_WORDS)}{rng.choice(TRADE_WORDS)}"
                f"{rng.choice(INDUSTRY_WORDS)}有限公司"
            )
            address = f"{units[county].name}{rng.choice(ROADS)}{rank % 500 + 1}号"
            rows.append(BusinessRow(number, name, _uscc(county, number), address, county))
        ranks = range(first, len(rows))
        pickers[province] = Picker.of({i: 1 / (i - first + 1) ** ZIPF_EXPONENT for i in ranks})
    return rows, pickers


def texts() -> dict[str, str]:
    """Labels and notes as the platform records them (Simplified Chinese)."""
    with translation.override("zh-hans"):
        texts = {f"channel:{c.value}": f"经{c.label}提交" for c in Channel}
        texts.update({f"clock:{k.value}": str(k.label) for k in ClockKind})
        texts.update({f"category:{leaf}": category_name(leaf) for leaf in _category_codes()})
    return texts


def _category_codes() -> list[str]:
    return [child["code"] for group in category_tree() for child in group["children"]]


def categories() -> Picker:
    return Picker.of({c: CATEGORY_WEIGHTS.get(c, OTHER_CATEGORY_WEIGHT) for c in _category_codes()})


# --- People ------------------------------------------------------------------------------------


def person_name(number: int) -> str:
    mixed = (number * 2654435761) & 0xFFFFFFFF
    surname = SURNAMES[mixed % len(SURNAMES)]
    given = GIVEN[(mixed >> 8) % len(GIVEN)]
    second = GIVEN[(mixed >> 16) % len(GIVEN)] if mixed & 1 else ""
    return surname + given + second


def consumer_phone(user_id: int) -> str:
    return f"199{user_id % 100_000_000:08d}"
