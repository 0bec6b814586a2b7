"""Writes on businesses: finding the operator a consumer names, or recording it.

Consumers name the business they complain about in their own words; the unified social credit
code (USCC, GB 32100) is what identifies an operator. Attaching a complaint to the right Business
matters beyond bookkeeping: that business's users see the complaints against it.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from businesses.models import Business


def matching_businesses(*, name: str, uscc: str) -> QuerySet[Business]:
    """The records a respondent may be: the one with the code (unique when given), else those
    known by exactly this name and no code. Intake reads at most two ids of them in the round
    trip that reserves the case's keys (`cases.intake_writes`)."""
    if uscc:
        return Business.objects.filter(uscc=uscc)
    return Business.objects.filter(name=name, uscc="")


def choose_business(*, name: str, uscc: str, address: str, found: list[int]) -> int:
    """The business a respondent is, given the ids of at most two `matching_businesses` (read
    beforehand): the one with the code, or the only one known by exactly that name and no code;
    a new record otherwise. Call inside the caller's transaction: a rejected submission rolls it
    back. Without a code only an exact, unique name match counts: two operators may share a
    trade name, and guessing wrong would show a complaint to the wrong business."""
    if uscc:
        return found[0] if found else _by_uscc(name=name, uscc=uscc, address=address).pk
    if len(found) == 1:
        return found[0]
    return Business.objects.create(name=name, address=address).pk


def _by_uscc(*, name: str, uscc: str, address: str) -> Business:
    """Get or create by code; a concurrent insert of the same code (unique) yields its row."""
    try:
        return Business.objects.get(uscc=uscc)  # unique when given
    except Business.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            return Business.objects.create(name=name, uscc=uscc, address=address)
    except IntegrityError:
        return Business.objects.get(uscc=uscc)
