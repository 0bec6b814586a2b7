"""Every periodic task in the beat schedule exists, so beat never sends a name no worker knows."""

from __future__ import annotations

from django.conf import settings

from open12315.celery import app


def test_every_scheduled_task_is_registered():
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled
    assert scheduled <= set(app.tasks.keys())
