"""The real components: PostgreSQL, Redis and a Celery worker consuming from the real broker.

Run on SQLite with the filesystem broker by default; CI runs again with DATABASE_URL, REDIS_URL
and CELERY_BROKER_URL set and REQUIRE_SERVICES=1, where a missing service fails the test."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from open12315.celery import app
from ops.tasks import heartbeat

REQUIRED = os.environ.get("REQUIRE_SERVICES") == "1"


def needs(variable: str) -> None:
    if not os.environ.get(variable):
        if REQUIRED:
            pytest.fail(f"{variable} must be set when REQUIRE_SERVICES=1")
        pytest.skip(f"{variable} is not set")


@pytest.mark.django_db
def test_the_database_is_the_one_configured():
    needs("DATABASE_URL")
    expected = "postgresql" if os.environ["DATABASE_URL"].startswith("postgres") else None
    assert expected is None or connection.vendor == expected
    with connection.cursor() as cursor:
        cursor.execute("select 1")
        assert cursor.fetchone() == (1,)


def test_the_cache_is_redis_and_round_trips():
    needs("REDIS_URL")
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    key = f"probe:{uuid.uuid4()}"
    cache.set(key, "值", timeout=30)
    assert cache.get(key) == "值"


@pytest.fixture
def broker_options(tmp_path):
    """The filesystem broker gets its own folders for this test; the app's options come back."""
    saved = app.conf.broker_transport_options
    if app.conf.broker_url.startswith("filesystem://"):
        folder = tmp_path / "broker"
        folder.mkdir()
        app.conf.broker_transport_options = {
            "data_folder_in": str(folder), "data_folder_out": str(folder),
            "control_folder": str(tmp_path / "control"),
        }  # fmt: skip
    yield
    app.conf.broker_transport_options = saved


@pytest.mark.django_db(transaction=True)
def test_a_worker_consumes_a_task_from_the_configured_broker(broker_options):
    token = uuid.uuid4().hex
    if not app.conf.broker_url.startswith("filesystem://"):  # that one has its own folder here
        # Other tests queue tasks on the shared broker that no worker takes (the outbox kick
        # after a commit): this one's worker would run them all before the heartbeat.
        app.control.purge()
    # Sent before the worker starts: kombu's filesystem transport can hand a reader a message
    # file its writer has not filled yet (the worker then stops on an empty JSON document).
    heartbeat.delay(token)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        deadline = time.monotonic() + 20
        while cache.get(f"heartbeat:{token}") is None and time.monotonic() < deadline:
            time.sleep(0.1)
    assert cache.get(f"heartbeat:{token}") is not None
