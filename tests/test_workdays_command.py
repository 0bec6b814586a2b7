"""`manage.py workdays`: the calendar from the shell, answers on stdout, bad input as errors."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from workdays import calendar

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_calendar():
    calendar.clear_cache()
    yield
    calendar.clear_cache()


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("workdays", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_add_prints_only_the_due_date():
    assert run("add", "2026-09-30", "7") == ("2026-10-15\n", "")


def test_add_zero_on_a_holiday_gives_the_next_working_day():
    assert run("add", "2026-10-01", "0") == ("2026-10-08\n", "")


def test_add_into_a_year_without_a_notice_warns_on_stderr():
    out, err = run("add", "2031-09-30", "7")

    # Tue 30 Sep; 1-3 Oct off by law; Mon 6 to Fri 10, Mon 13, Tue 14. No make-up days known.
    assert out == "2031-10-14\n"
    assert "2031" in err
    assert "推算" in err


def test_check_names_the_day_the_status_and_the_source():
    assert run("check", "2026-10-10") == ("2026-10-10 工作日 package 国庆节\n", "")
    assert run("check", "2026-10-01") == ("2026-10-01 休息日 package 国庆节\n", "")
    assert run("check", "2026-10-11")[0] == "2026-10-11 休息日 package\n"
    assert run("check", "2031-10-01")[0] == "2031-10-01 休息日 fallback 国庆节\n"


def test_between_counts_the_working_days_after_the_start_up_to_the_end():
    assert run("between", "2026-09-30", "2026-10-15") == ("7\n", "")
    assert run("between", "2026-10-15", "2026-09-30") == ("0\n", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "2026-02-30", "7"], "不是有效的日期"),
        (["add", "tomorrow", "7"], "不是有效的日期"),
        (["add", "2026-09-30", "-1"], "天数不能为负数"),
        (["add", "2026-09-30", "seven"], "天数须为整数"),
        (["check", "2026-10"], "不是有效的日期"),
        (["between", "2026-09-30", "x"], "不是有效的日期"),
        (["add", "9999-12-30", "10"], "超出了 9999 年"),
        (["add", "2026-09-30"], "required"),
        ([], "required"),
    ],
)
def test_bad_input_is_a_command_error_with_a_clear_message(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_bad_input_from_the_shell_is_a_usage_error_not_a_traceback():
    manage = Path(__file__).resolve().parent.parent / "manage.py"

    done = subprocess.run(  # noqa: S603 - a fixed argument list
        [sys.executable, str(manage), "workdays", "add", "2026-09-30", "-1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert "天数不能为负数" in done.stderr
    assert "Traceback" not in done.stderr
