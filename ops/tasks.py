"""Operational tasks: a heartbeat proves the worker consumes from the broker."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone


@shared_task
def heartbeat(token: str) -> str:
    """Record that a worker ran: health checks and the services test read it back."""
    cache.set(f"heartbeat:{token}", timezone.now().isoformat(), timeout=600)
    return token
