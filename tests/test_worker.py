"""A real Celery worker process consumes ShipBridge's tasks through a real Redis."""
import pytest

from orders.models import ImportRun, Order
from tests.utils import sandbox_store, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_worker_runs_the_scheduled_import_through_redis(workers, sandboxes):
    # Given a sandbox store due for a refresh and a worker on both queues
    store = sandbox_store(sandboxes("custom_store", orders=30), name="Worker shop")
    workers.start()
    # When the beat's "refresh due stores" task is sent to Redis (what beat does every minute)
    workers.client.send_task("orders.tasks.refresh_due_stores")
    # Then the worker queues and runs the store's import, and the orders are in the database
    assert wait_for(lambda: ImportRun.objects.filter(store=store, status="succeeded").exists(), timeout=60.0), \
        list(ImportRun.objects.values("status", "error"))
    run = ImportRun.objects.get(store=store)
    assert run.trigger == "schedule"
    assert run.imported > 0 and Order.objects.filter(store=store).count() == run.imported
    store.refresh_from_db()
    assert store.next_refresh_at is not None and store.import_cursor is not None
