"""A real Celery worker process consumes ShipBridge's tasks through a real Redis."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from orders.models import ImportRun, Order
from tests.utils import sandbox_store, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("the worker shares the test database only on PostgreSQL (run scripts/test)")
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


@pytest.fixture
def worker(redis_url, tmp_path, monkeypatch):
    env = {
        **os.environ,  # taken before CELERY_BROKER_URL is removed below; overridden here anyway
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": redis_url,
        "SHIPBRIDGE_VAR_DIR": str(tmp_path),
        "SHIPBRIDGE_RETRY_BASE_SECONDS": "0.01",
    }
    log = open(tmp_path / "worker.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "shipbridge", "worker", "--pool=solo", "--loglevel=INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat",
         "--queues", "imports,notifications"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # Celery prefers it to broker=
    client = Celery(broker=redis_url)
    client.conf.task_default_queue = settings.CELERY_TASK_DEFAULT_QUEUE  # where beat's ticks go
    yield client
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    print((tmp_path / "worker.log").read_text()[-3000:])


def test_worker_runs_the_scheduled_import_through_redis(worker, sandboxes):
    # Given a sandbox store due for a refresh
    store = sandbox_store(sandboxes("custom_store", orders=30), name="Worker shop")
    # When the beat's "refresh due stores" task is sent to Redis (what beat does every minute)
    worker.send_task("orders.tasks.refresh_due_stores")
    # Then the worker queues and runs the store's import, and the orders are in the database
    assert wait_for(lambda: ImportRun.objects.filter(store=store, status="succeeded").exists(), timeout=60.0), \
        list(ImportRun.objects.values("status", "error"))
    run = ImportRun.objects.get(store=store)
    assert run.trigger == "schedule"
    assert run.imported > 0 and Order.objects.filter(store=store).count() == run.imported
    store.refresh_from_db()
    assert store.next_refresh_at is not None and store.import_cursor is not None
