"""`Case.next_due` kept exact wherever clocks open, close or move, and the deadline queues that
narrow by it equal what the clocks themselves say.

June 2026: Wednesday 10 June; two working days later is Friday 12 June, the weekend follows and
the next working day is Monday 15 June.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import threading
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import User
from cases.deadlines import last_due_soon_day, resume_clocks, settle_next_due, settle_next_due_of
from cases.intake import submit_case
from cases.models import Case, ClockKind, Deadline, Kind, Status
from cases.services import _extend, perform
from notifications.models import Notification
from notifications.tasks import _meet_notice_clock
from supervision import rollups
from supervision.models import DueSoonNotice
from supervision.sweeps import mark_clocks, sweep_deadlines
from tests.clocks import set_clocks
from tests.test_supervision_factories import (
    act,
    at,
    clock_of,
    frozen,
    two_working_days_before,
)
from tests.test_workbench import complaint
from tests.test_workflow_factory import O121_DAY, make_case
from workbench.selectors import OPEN, Queue, queue_cases, queue_counts
from workdays.calendar import is_workday

pytestmark = pytest.mark.django_db

D = dt.date
WEDNESDAY = D(2026, 6, 10)
SATURDAY = D(2026, 6, 13)
DEADLINE_QUEUES = (Queue.DUE_SOON, Queue.OVERDUE)


def report_received_on(agent: User, day: D) -> Case:
    """A report the hotline agent recorded as received on `day` at 10:00."""
    payload = {
        "department": "330106",
        "contact_address": "杭州市西湖区文一路1号",
        "respondent": {"name": "西湖无证餐馆", "address": "杭州市西湖区天目山路5号"},
        "facts": "无证经营，后厨卫生很差。",
        "on_behalf_of": {"real_name": "王来电", "phone": "13900000009", "address": "杭州市"},
        "received_at": at(day).isoformat(),
    }
    return submit_case(kind=Kind.REPORT, by=agent, payload=payload)


def marks(clock: Deadline) -> tuple[bool, bool]:
    clock.refresh_from_db()
    return clock.due_soon, clock.overdue


def earliest_open_due(case: Case) -> D | None:
    dues = Deadline.objects.filter(case=case, met_at__isnull=True, cancelled=False)
    return min(dues.values_list("due", flat=True), default=None)


# --- the marks a moved clock keeps ------------------------------------------------------------


def test_an_extension_past_the_window_takes_off_the_due_soon_mark_as_the_sweep_would(cast):
    # Given a report whose verify clock the sweep has marked due soon
    report = report_received_on(cast.hank, D(2026, 6, 1))
    act(report, "accept", by=cast.ken, on=D(2026, 6, 2))
    verify = clock_of(report, ClockKind.VERIFY)
    soon = two_working_days_before(verify.due)
    mark_clocks(today=soon)
    assert marks(verify) == (True, False)

    # When the head extends it by 15 working days that day
    act(report, "extend", by=cast.helen, on=soon, reason="案情复杂，需延长核查")

    # Then it carries the marks the sweep of that day leaves it, and its case's next due date
    after_extension = marks(verify)
    mark_clocks(today=soon)
    assert after_extension == marks(verify) == (False, False)
    assert Case.objects.get(pk=report.pk).next_due == verify.due


# --- a clock due on a day off -----------------------------------------------------------------


@pytest.mark.parametrize("small", [True, False])
def test_a_clock_the_sweep_tells_as_due_soon_is_in_the_due_soon_queue_though_due_on_a_day_off(
    cast, tree, monkeypatch, small
):
    # A due date falls on a day off when the calendar changes after the clock started: a year
    # counted Monday-Friday until its State Council notice is entered (bridge days, 调休).
    monkeypatch.setattr("workbench.selectors.SMALL_SUBTREE_UNITS", 1000 if small else 0)
    case = complaint(cast.alice)
    assert not is_workday(SATURDAY)
    set_clocks(Deadline.objects.filter(case=case), due=SATURDAY)

    # When the sweep of Wednesday marks it due soon and tells the unit (two working days left)
    sweep_deadlines(today=WEDNESDAY)
    assert DueSoonNotice.objects.filter(deadline__case=case).count() == 1

    # Then the county's due-soon queue holds it that day
    counts = queue_counts(cast.ken, tree.county, today=WEDNESDAY)
    rows = queue_cases(cast.ken, tree.county, Queue.DUE_SOON, today=WEDNESDAY)
    assert (counts[Queue.DUE_SOON], [row.pk for row in rows]) == (1, [case.pk])


# --- the notice clock met by the outbox while the case is acted on ----------------------------


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs two real connections (PostgreSQL)",
)
@pytest.mark.django_db(transaction=True)
def test_the_last_notice_meeting_its_clock_while_the_consumer_rates_the_case_both_go_through(
    cast, tree
):
    # Given a terminated complaint whose notices are all sent but whose notice clock is not
    # met yet (the worker that sent the last one is about to meet it)
    with mock.patch("notifications.tasks.deliver_pending.delay"), frozen(O121_DAY):
        case = make_case(department=tree.county, consumer=cast.alice, respondent=cast.shop)
        perform(case, "accept", by=cast.ken)
        perform(case, "terminate", by=cast.ken, ground="absent_or_refused", note="拒绝调解")
    clock = Deadline.objects.get(case=case, kind=ClockKind.NOTIFY_TERMINATION)
    Notification.objects.filter(deadline=clock).update(sent_at=timezone.now())
    assert Case.objects.get(pk=case.pk).next_due == clock.due

    # When Alice rates the case (her action holds the case row) while the worker meets the clock
    case_locked, clock_changed = threading.Event(), threading.Event()
    errors: dict[str, BaseException] = {}

    def after(event: threading.Event, wait_for: threading.Event | None, original: Callable):
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            event.set()
            if wait_for is not None:
                wait_for.wait(1.5)
            return original(*args, **kwargs)

        return wrapped

    def rate() -> None:
        try:
            perform(case, "rate", by=cast.alice, satisfaction=2, resolved=False)
        except BaseException as exc:
            errors["rate"] = exc
        finally:
            case_locked.set()
            connection.close()

    def meet() -> None:
        try:
            case_locked.wait(5)
            _meet_notice_clock(clock.pk)
        except BaseException as exc:
            errors["meet"] = exc
        finally:
            clock_changed.set()
            connection.close()

    with (
        mock.patch.object(rollups, "snapshot", after(case_locked, clock_changed, rollups.snapshot)),
        mock.patch.object(rollups, "clocks_met", after(clock_changed, None, rollups.clocks_met)),
    ):
        threads = [threading.Thread(target=rate), threading.Thread(target=meet)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(15)

    # Then neither fails, and the case keeps its rating with no clock open
    assert errors == {}
    rated = Case.objects.get(pk=case.pk)
    assert (rated.satisfaction, rated.next_due) == (2, None)
    assert Deadline.objects.get(pk=clock.pk).met_at is not None


# --- the queues against the clocks, at random -------------------------------------------------

KINDS = (ClockKind.ACCEPT, ClockKind.MEDIATE, ClockKind.VERIFY, ClockKind.NOTIFY_TERMINATION)
TODAY = WEDNESDAY  # the Dragon Boat Festival, Friday 19 June, is among the due dates
ROUNDS = 20


def _due_dates(days_off: bool) -> list[D]:
    days = [TODAY + dt.timedelta(days=n) for n in range(-12, 13)]
    return days if days_off else [day for day in days if is_workday(day)]


def _random_clocks(
    rng: random.Random, cases: list[Case], department: Any, *, days_off: bool, start: D
) -> None:
    """Up to three clocks on each case, due around TODAY, some of them paused before `start`."""
    dues = _due_dates(days_off)
    Deadline.objects.filter(case__in=cases).delete()
    for case in cases:
        for _ in range(rng.randint(0, 3)):
            due = rng.choice(dues)
            paused = rng.random() < 0.2
            Deadline.objects.create(
                case=case,
                kind=rng.choice(KINDS),
                department=department,
                started_on=TODAY - dt.timedelta(days=40),
                due=due,
                paused_since=start - dt.timedelta(days=rng.randint(1, 5)) if paused else None,
            )
    settle_next_due_of([case.pk for case in cases])


def _a_day_passes(rng: random.Random, cases: list[Case], day: D) -> None:
    """The sweep of `day` (mostly), then what `perform` may do to the clocks that day: pause,
    resume, extend, meet, cancel; each case's next due date settled as `perform` settles it."""
    if rng.random() < 0.8:
        mark_clocks(today=day)
    for case in cases:
        for clock in Deadline.objects.filter(case=case, met_at__isnull=True, cancelled=False):
            move = rng.choice(("none", "none", "pause", "resume", "extend", "meet", "cancel"))
            if move == "pause" and clock.paused_since is None:
                Deadline.objects.filter(pk=clock.pk).update(paused_since=day)
            elif move == "resume" and clock.paused_since is not None:
                resume_clocks(case, clock.kind, on=day)
            elif move == "extend":
                _extend(case, clock.kind, 15, on=day)
            elif move == "meet":
                Deadline.objects.filter(pk=clock.pk).update(met_at=at(day), due_soon=False)
            elif move == "cancel":
                Deadline.objects.filter(pk=clock.pk).update(
                    cancelled=True, due_soon=False, overdue=False
                )
        settle_next_due(Case.objects.get(pk=case.pk))


def _expected(cases: list[Case], day: D) -> dict[Queue, set[int]]:
    """Each deadline queue from the clocks alone: the queue's conditions without `next_due`."""
    limit = last_due_soon_day(day)
    found: dict[Queue, set[int]] = {queue: set() for queue in DEADLINE_QUEUES}
    for case in Case.objects.filter(pk__in=[c.pk for c in cases], status__in=OPEN):
        clocks = list(Deadline.objects.filter(case=case, met_at__isnull=True, cancelled=False))
        running = [clock for clock in clocks if clock.paused_since is None]
        if any(clock.overdue for clock in clocks) or any(c.due < day for c in running):
            found[Queue.OVERDUE].add(case.pk)
        soon = [c for c in running if day <= c.due <= limit and not c.overdue]
        flagged = [c for c in clocks if c.due_soon and c.due >= day and not c.overdue]
        if soon or flagged:
            found[Queue.DUE_SOON].add(case.pk)
    return found


@pytest.mark.parametrize("days_off", [False, True], ids=["working-days", "any-day"])
@pytest.mark.parametrize("small", [True, False], ids=["small", "large"])
def test_the_deadline_queues_equal_what_the_clocks_say(cast, tree, monkeypatch, small, days_off):
    monkeypatch.setattr("workbench.selectors.SMALL_SUBTREE_UNITS", 1000 if small else 0)
    cases = [complaint(cast.alice) for _ in range(5)]
    closed = complaint(cast.bob)
    perform(closed, "reject", by=cast.ken, ground="out_of_scope", reason="不属于职责范围")
    cases.append(closed)
    assert Case.objects.get(pk=closed.pk).status == Status.CLOSED
    for seed in range(ROUNDS):
        # Given clocks around TODAY, and a few days of sweeps and actions up to it
        rng = random.Random(seed)
        start = TODAY - dt.timedelta(days=rng.randint(0, 6))
        _random_clocks(rng, cases, tree.county, days_off=days_off, start=start)
        for offset in sorted({0, rng.randrange(7), rng.randrange(7)}):
            _a_day_passes(rng, cases, min(start + dt.timedelta(days=offset), TODAY))
        for case in cases:
            assert Case.objects.get(pk=case.pk).next_due == earliest_open_due(case), seed

        # Then every deadline queue counts and lists what the clocks say
        expected = _expected(cases, TODAY)
        for officer, unit in ((cast.ken, tree.county), (cast.cathy, tree.city)):
            counts = queue_counts(officer, unit, today=TODAY)
            for queue in DEADLINE_QUEUES:
                listed = {c.pk for c in queue_cases(officer, unit, queue, today=TODAY)}
                found = (counts[queue], listed)
                assert found == (len(expected[queue]), expected[queue]), (seed, unit.code, queue)
