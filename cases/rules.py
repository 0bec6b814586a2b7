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


# The latest due date, in calendar days from today, a supervisor may give a unit (a manual
# supervision order, by the API, the page or the workflow's `supervise` action): an order asks for
# an answer soon, and a due date years away chases nobody.
MAX_DUE_DAYS = 90

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


_ISO_MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}")


def looks_like_moment(value: str) -> bool:
    """Written as the API writes moments (2026-11-20T09:30...), which `datetime.fromisoformat`
    alone does not require ("20261120T0930" passes it)."""
    return _ISO_MOMENT.match(value) is not None


def rules_for(received_at: dt.datetime) -> str:
    return Rules.O121 if local_date(received_at) >= O121_FROM else Rules.O20
