"""`manage.py verify_events`: recompute every case's hash chain (API.md, Commands).

Cases are read in primary-key batches and each batch's events in one ordered query, so the whole
log is streamed once without a query per case. Exit status 1 and the broken case numbers when an
event was altered or removed (the case's `event_head` catches the removal of the newest ones).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cases.events import GENESIS, _digest_of
from cases.models import Case, CaseEvent

BATCH = 1000


def chain_problem(case: Case, events: list[CaseEvent]) -> str | None:
    """Why the chain of `case` (its events in `seq` order) is broken, or None when intact."""
    prev_hash = GENESIS
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            return f"event {expected_seq} is missing"
        if event.prev_hash != prev_hash:
            return f"event {event.seq} does not follow its predecessor"
        if _digest_of(event, case.number) != event.hash:
            return f"event {event.seq} was altered"
        prev_hash = event.hash
    if prev_hash != (case.event_head or GENESIS):
        return "the newest events were removed"
    return None


def case_batches(batch: int = BATCH) -> Iterator[list[Case]]:
    last_pk = 0
    while True:
        cases = list(
            Case.objects.filter(pk__gt=last_pk)
            .order_by("pk")
            .only("pk", "number", "event_head")[:batch]
        )
        if not cases:
            return
        yield cases
        last_pk = cases[-1].pk


def broken_cases(batch: int = BATCH) -> Iterator[tuple[str, str]]:
    """(case number, reason) for every case whose chain does not verify."""
    for cases in case_batches(batch):
        events: dict[int, list[CaseEvent]] = defaultdict(list)
        rows = CaseEvent.objects.filter(case_id__in=[c.pk for c in cases]).order_by(
            "case_id", "seq"
        )
        for event in rows.iterator(chunk_size=5000):
            events[event.case_id].append(event)
        for case in cases:
            reason = chain_problem(case, events[case.pk])
            if reason is not None:
                yield case.number, reason


class Command(BaseCommand):
    help = "Check every case's event hash chain; exit 1 naming the broken cases."

    def handle(self, *args: Any, **options: Any) -> None:
        broken = 0
        for number, reason in broken_cases():
            broken += 1
            self.stdout.write(f"{number}: {reason}")
        if broken:
            raise CommandError(f"{broken} case(s) with a broken event chain", returncode=1)
        self.stdout.write(f"{Case.objects.count()} case(s) checked, every event chain intact")
