"""The public holidays fixed by law, for a year nobody has the State Council notice for.

全国年节及纪念日放假办法 as revised with effect from 1 January 2025 (Art. 2): 元旦 1 January;
春节 New Year's Eve and the 1st to 3rd of the first lunar month; 清明 the day of the solar term;
劳动节 1–2 May; 端午 the 5th of the fifth lunar month; 中秋 the 15th of the eighth lunar month;
国庆节 1–3 October. The yearly notice adds bridge days and make-up workdays around these; those
cannot be predicted, which is why the admin is warned when a year falls back to this list. The
current rules are applied to every year, past ones included: old years are only ever reached by
mistaken input, and a plausible answer beats an exception on the request path.
"""

from __future__ import annotations

from datetime import MAXYEAR, date, timedelta
from functools import lru_cache
from typing import Any

from chinese_calendar import Holiday
from lunar_python import Lunar, Solar


def statutory_holidays(year: int) -> dict[date, str]:
    """The statutory days off in `year` (1–9999) by date, each with its Chinese name."""
    return dict(_statutory_holidays(year))


@lru_cache(maxsize=512)
def _statutory_holidays(year: int) -> tuple[tuple[date, str], ...]:
    """Kept apart from the calendar cache: the law does not change when an admin edits, and the
    lunar conversion is the slowest step in building a year."""
    # In a few early centuries a lunar new year starts in the previous December, so the next lunar
    # year's festival may fall at the end of this one.
    spring_festivals = [
        *_spring_festival(year),
        *(_spring_festival(year + 1) if year < MAXYEAR else []),
    ]
    candidates = [
        (date(year, 1, 1), Holiday.new_years_day),
        *((day, Holiday.spring_festival) for day in spring_festivals),
        (_qingming(year), Holiday.tomb_sweeping_day),
        (date(year, 5, 1), Holiday.labour_day),
        (date(year, 5, 2), Holiday.labour_day),
        (_from_lunar(year, 5, 5), Holiday.dragon_boat_festival),
        *((date(year, 10, day), Holiday.national_day) for day in (1, 2, 3)),
        (_from_lunar(year, 8, 15), Holiday.mid_autumn_festival),
    ]
    holidays: dict[date, str] = {}
    for day, holiday in candidates:
        # A coincidence (中秋 on 1 October) keeps the first name listed: the law adds no day for it.
        if day.year == year:
            holidays.setdefault(day, holiday.chinese)
    return tuple(holidays.items())


def _spring_festival(lunar_year: int) -> list[date]:
    """除夕 and the 1st to 3rd of the first month: four days since the 2025 revision."""
    new_year = _from_lunar(lunar_year, 1, 1)
    return [new_year + timedelta(days=offset) for offset in (-1, 0, 1, 2)]


def _from_lunar(year: int, month: int, day: int) -> date:
    return _to_date(Lunar.fromYmd(year, month, day).getSolar())


def _qingming(year: int) -> date:
    """清明 is a solar term (around 4–6 April), read from the solar-term table of the lunar year
    that contains 15 April."""
    return _to_date(Solar.fromYmd(year, 4, 15).getLunar().getJieQiTable()["清明"])


def _to_date(solar: Any) -> date:
    return date(solar.getYear(), solar.getMonth(), solar.getDay())
