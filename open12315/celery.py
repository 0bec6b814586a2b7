"""The Celery application: `celery -A open12315 worker` / `beat`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "open12315.settings")

app = Celery("open12315")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
