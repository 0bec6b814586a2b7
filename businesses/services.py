"""Writes on businesses: finding the operator a consumer names, or recording it.

Consumers name the business they complain about in their own words; the unified social credit
code (USCC, GB 32100) is what identifies an operator. Attaching a complaint to the right Business
matters beyond bookkeeping: that business's users see the complaints against it.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from businesses.models import Business


def find_or_create_business(*, name: str, uscc: str = "", address: str = "") -> Business:
    """The business with this USCC, or (without a code) the one with exactly this name; a new
    record otherwise. Call inside the caller's transaction: a rejected submission rolls it back.

    Without a code only an exact, unique name match counts: two operators may share a trade name,
    and guessing wrong would show a complaint to the wrong business.
    """
    if uscc:
        return _by_uscc(name=name, uscc=uscc, address=address)
    matches = list(Business.objects.filter(name=name, uscc="").order_by()[:2])
    if len(matches) == 1:
        return matches[0]
    return Business.objects.create(name=name, address=address)


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
