"""Which regulation applies to a case: chosen by the date it was received (WORKFLOW.md)."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from cases.models import Rules

SHANGHAI = ZoneInfo("Asia/Shanghai")
O121_FROM = dt.date(2026, 4, 15)


def local_date(moment: dt.datetime) -> dt.date:
    """The calendar date in China of an aware datetime: deadlines count in Asia/Shanghai days."""
    return moment.astimezone(SHANGHAI).date()


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_day(value: object) -> dt.date | None:
    """A date written YYYY-MM-DD (the API's one form), else None. `date.fromisoformat` alone
    also takes "20261120", "2026-W48-1" and non-ASCII digits."""
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:  # 2026-02-30
        return None


def rules_for(received_at: dt.datetime) -> str:
    return Rules.O121 if local_date(received_at) >= O121_FROM else Rules.O20
