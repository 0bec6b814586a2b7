"""Old one-time codes are deleted; recent ones (still counted by the rate limits) stay."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.models import SmsCode
from accounts.tasks import purge_old_sms_codes


def make_code(age: dt.timedelta) -> SmsCode:
    sent = timezone.now() - age
    return SmsCode.objects.create(
        phone="13800000009", purpose="register", code_hash="x" * 64,
        created_at=sent, expires_at=sent + dt.timedelta(minutes=5),
    )  # fmt: skip


def test_codes_older_than_a_day_are_purged_and_recent_ones_kept(db):
    old = make_code(dt.timedelta(days=2))
    recent = make_code(dt.timedelta(minutes=30))

    assert purge_old_sms_codes() == 1

    assert not SmsCode.objects.filter(pk=old.pk).exists()
    assert SmsCode.objects.filter(pk=recent.pk).exists()
