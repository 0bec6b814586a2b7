"""Keep the calendar cache (workdays.calendar) in step with what admins enter."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from workdays import calendar
from workdays.models import EnteredDay, EnteredYear


@receiver(post_save, sender=EnteredYear)
@receiver(post_delete, sender=EnteredYear)
def entered_year_changed(sender: type[EnteredYear], **kwargs: Any) -> None:
    _forget_calendar()


@receiver(post_save, sender=EnteredDay)
@receiver(post_delete, sender=EnteredDay)
def entered_day_changed(sender: type[EnteredDay], instance: EnteredDay, **kwargs: Any) -> None:
    # Other processes notice edits by their year's updated_at (calendar._entered_stamp).
    EnteredYear.objects.filter(pk=instance.entered_year_id).update(updated_at=timezone.now())
    _forget_calendar()


def _forget_calendar() -> None:
    """Clear now, so the editing transaction sees its own change, and again on commit, so no
    other thread keeps a copy it read before the commit."""
    calendar.clear_cache()
    transaction.on_commit(calendar.clear_cache)
