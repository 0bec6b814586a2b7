"""Periodic work on cases. Beat: `purge_unused_uploads` hourly."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from cases.evidence import UNUSED_FOR
from cases.models import Attachment

BATCH = 500


@shared_task
def purge_unused_uploads() -> int:
    """Remove uploads that no case took within 24 hours: rows and files. Evidence nobody filed is
    personal data with no purpose (API.md promises the removal). Returns how many went."""
    cutoff = timezone.now() - UNUSED_FOR
    removed = 0
    while batch := _purge_batch(cutoff):
        removed += batch
    return removed


def _purge_batch(cutoff: datetime) -> int:
    """One batch in its own transaction. Rows a submission is claiming right now are locked by it
    and skipped; the files go only once the rows are gone for good."""
    with transaction.atomic():
        stale = list(
            Attachment.objects.select_for_update(skip_locked=True).filter(
                case__isnull=True, created_at__lt=cutoff
            )[:BATCH]
        )
        if not stale:
            return 0
        Attachment.objects.filter(pk__in=[a.pk for a in stale]).delete()
        transaction.on_commit(lambda: _delete_files(stale))
    return len(stale)


def _delete_files(attachments: list[Attachment]) -> None:
    for attachment in attachments:
        attachment.file.delete(save=False)
