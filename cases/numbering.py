"""Readable, unique case numbers: kind letter + receipt date (Asia/Shanghai) + sequence.

T = 投诉 (complaint), J = 举报 (report), Z = 咨询 (consultation); e.g. `T2026112900000042`.

The sequence is the case's primary key, zero-padded to eight digits (longer once it outgrows them).
A per-day counter row would be a single hot row every submission in the country locks for the
length of its transaction; the primary key is already unique and handed out by the database
without a lock we hold, so numbers are unique under any concurrency, on SQLite and PostgreSQL.
On PostgreSQL intake takes the key from the table's sequence before the insert
(`cases.intake_writes.reserve`), so the case is written once with its number (and its first
event's hash, which covers the number).
SQLite has no sequence to ask: there the case is inserted with a random placeholder, then given
its number from the new key in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import secrets

from cases.models import Case, Kind
from cases.rules import local_date

KIND_LETTERS = {Kind.COMPLAINT: "T", Kind.REPORT: "J", Kind.CONSULTATION: "Z"}
SEQUENCE_DIGITS = 8
PLACEHOLDER_PREFIX = "tmp-"


def placeholder_number() -> str:
    """Unique until the real number replaces it, in the same transaction (32 characters)."""
    return PLACEHOLDER_PREFIX + secrets.token_hex(14)


def format_number(*, kind: str, received_on: dt.date, sequence: int) -> str:
    return f"{KIND_LETTERS[Kind(kind)]}{received_on:%Y%m%d}{sequence:0{SEQUENCE_DIGITS}d}"


def number_for(case: Case) -> str:
    """The permanent number of a case whose key is known (inserted or reserved)."""
    return format_number(kind=case.kind, received_on=local_date(case.received_at), sequence=case.pk)


def assign_number(case: Case) -> str:
    """Give a freshly inserted case its permanent number (before any event hashes it)."""
    case.number = number_for(case)
    Case.objects.filter(pk=case.pk).update(number=case.number)
    return case.number
