"""Celery tasks of supervision: beat runs the deadline sweep every five minutes."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from supervision.sweeps import sweep_deadlines


@shared_task(ignore_result=True)
def sweep_deadlines_task() -> dict[str, int]:
    """Safe to run twice or in parallel (see supervision.sweeps); returns the counts for logs."""
    return asdict(sweep_deadlines())
