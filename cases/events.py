"""The case timeline: append-only events, each SHA-256 chained to the one before it.

The chain makes tampering visible: `verify_case_events` recomputes every hash, and the case keeps
the newest hash (`event_head`) so that removing the last event is detected too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from accounts.models import User
from cases.models import Case, CaseEvent, Visibility
from departments.models import Department

GENESIS = "0" * 64


def event_digest(
    *,
    prev_hash: str,
    case_number: str,
    seq: int,
    at: datetime,
    action: str,
    actor_id: int | None,
    department_id: str | None,
    visibility: str,
    note: str,
    data: dict[str, Any],
) -> str:
    # In UTC: the database hands `at` back in UTC whatever offset it was written with, so an
    # event recorded at "+08:00" (a hotline receipt time) must hash the same when re-read.
    moment = at.astimezone(dt.UTC).isoformat()
    payload = json.dumps(
        [case_number, seq, moment, action, actor_id, department_id, visibility, note, data],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def _digest_of(event: CaseEvent, case_number: str) -> str:
    return event_digest(
        prev_hash=event.prev_hash,
        case_number=case_number,
        seq=event.seq,
        at=event.at,
        action=event.action,
        actor_id=event.actor_id,
        department_id=event.department_id,
        visibility=event.visibility,
        note=event.note,
        data=event.data,
    )


def append_event(
    case: Case,
    *,
    action: str,
    by: User | None,
    department: Department | None,
    visibility: str = Visibility.PUBLIC,
    note: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> CaseEvent:
    """Append one event. Call inside the transaction that changes the case, with the case row
    locked (perform does), so that sequence numbers cannot race."""
    last = case.events.order_by("-seq").values_list("seq", "hash").first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    event = _chained(
        case,
        seq=seq,
        prev_hash=prev_hash,
        action=action,
        by=by,
        department=department,
        visibility=visibility,
        note=note,
        data=data,
        at=at,
    )
    event.save(force_insert=True)
    case.event_head = event.hash
    Case.objects.filter(pk=case.pk).update(event_head=event.hash)
    return event


def first_event(
    case: Case,
    *,
    action: str,
    by: User | None,
    department: Department | None,
    visibility: str = Visibility.PUBLIC,
    note: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> CaseEvent:
    """The opening event of a case being filed (seq 1, chained to GENESIS), not yet saved.

    The case needs its final number first (the hash covers it); this sets `case.event_head`, so
    the case row can be written with its head in one statement. Save the event after the case.
    """
    event = _chained(
        case,
        seq=1,
        prev_hash=GENESIS,
        action=action,
        by=by,
        department=department,
        visibility=visibility,
        note=note,
        data=data,
        at=at,
    )
    case.event_head = event.hash
    return event


def _chained(
    case: Case,
    *,
    seq: int,
    prev_hash: str,
    action: str,
    by: User | None,
    department: Department | None,
    visibility: str,
    note: str,
    data: dict[str, Any] | None,
    at: datetime | None,
) -> CaseEvent:
    event = CaseEvent(
        case=case,
        seq=seq,
        at=at or timezone.now(),
        action=action,
        actor=by,
        department=department,
        visibility=visibility,
        note=note,
        data=json.loads(json.dumps(data or {}, default=str)),
        prev_hash=prev_hash,
    )
    event.hash = _digest_of(event, case.number)
    return event


@dataclass(frozen=True)
class ChainProblem:
    case_number: str
    reason: str


def verify_case_events(case: Case) -> ChainProblem | None:
    """Recompute the chain; the first problem found, or None when intact."""
    prev_hash = GENESIS
    expected_seq = 1
    for event in case.events.order_by("seq"):
        if event.seq != expected_seq:
            return ChainProblem(case.number, f"event {expected_seq} is missing")
        if event.prev_hash != prev_hash:
            return ChainProblem(case.number, f"event {event.seq} does not follow its predecessor")
        if _digest_of(event, case.number) != event.hash:
            return ChainProblem(case.number, f"event {event.seq} was altered")
        prev_hash = event.hash
        expected_seq += 1
    if prev_hash != (case.event_head or GENESIS):
        return ChainProblem(case.number, "the newest events were removed")
    return None
