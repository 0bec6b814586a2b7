"""Periodic housekeeping for accounts."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from accounts.models import SmsCode

# The rate limits look back one hour; a day keeps a margin for support questions, then the phone
# numbers and request addresses go.
SMS_CODE_RETENTION = dt.timedelta(days=1)


@shared_task
def purge_old_sms_codes() -> int:
    cutoff = timezone.now() - SMS_CODE_RETENTION
    deleted, _ = SmsCode.objects.filter(created_at__lt=cutoff).delete()
    return deleted
