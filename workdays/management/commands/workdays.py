"""`manage.py workdays add|check|between`: the working-day calendar from the shell, to check a
deadline by hand exactly as the application computes it."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from workdays import calendar


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        message = _("不是有效的日期（格式为 YYYY-MM-DD）：%(value)s") % {"value": value}
        raise argparse.ArgumentTypeError(message) from None


def parse_count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        message = _("天数须为整数：%(value)s") % {"value": value}
        raise argparse.ArgumentTypeError(message) from None
    if count < 0:
        raise argparse.ArgumentTypeError(_("天数不能为负数：%(value)s") % {"value": value})
    return count


class Command(BaseCommand):
    help = _("工作日计算：add 起算日 N（第 N 个工作日，起算日不计）；check 日期；between 起 止。")

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help=_("起算日之后的第 N 个工作日（起算日当天不计）"))
        add.add_argument("start", type=parse_date)
        add.add_argument("n", type=parse_count)
        check = actions.add_parser("check", help=_("某日是否工作日，以及数据来源"))
        check.add_argument("day", type=parse_date)
        between = actions.add_parser("between", help=_("(起, 止] 之间的工作日数"))
        between.add_argument("start", type=parse_date)
        between.add_argument("end", type=parse_date)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "add":
            self.add(options["start"], options["n"])
        elif options["action"] == "check":
            self.check_day(options["day"])
        else:
            self.between(options["start"], options["end"])

    def add(self, start: date, n: int) -> None:
        try:
            due = calendar.add_working_days(start, n)
        except OverflowError:
            raise CommandError(_("结果超出了 9999 年，无法计算。")) from None
        self.stdout.write(due.isoformat())
        self.warn_fallback(range(start.year, due.year + 1))

    def check_day(self, day: date) -> None:
        info = calendar.describe_day(day)
        status = _("工作日") if info.is_workday else _("休息日")
        name = f" {info.name}" if info.name else ""
        self.stdout.write(f"{day.isoformat()} {status} {info.source}{name}")
        self.warn_fallback([day.year])

    def between(self, start: date, end: date) -> None:
        self.stdout.write(str(calendar.working_days_between(start, end)))
        self.warn_fallback(range(start.year, end.year + 1))

    def warn_fallback(self, years: range | list[int]) -> None:
        """On stderr, so that stdout stays just the answer for scripts."""
        fallback = calendar.fallback_years(years)
        if fallback:
            listed = "、".join(str(year) for year in fallback)
            self.stderr.write(
                _("注意：%(years)s 年没有放假通知数据，按法定节假日推算（不含调休）。")
                % {"years": listed}
            )
