"""Which regulation applies to a case: chosen by the date it was received (WORKFLOW.md)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from cases.models import Rules

SHANGHAI = ZoneInfo("Asia/Shanghai")
O121_FROM = dt.date(2026, 4, 15)


def local_date(moment: dt.datetime) -> dt.date:
    """The calendar date in China of an aware datetime: deadlines count in Asia/Shanghai days."""
    return moment.astimezone(SHANGHAI).date()


def rules_for(received_at: dt.datetime) -> str:
    return Rules.O121 if local_date(received_at) >= O121_FROM else Rules.O20
