"""Recovery from real faults, on the PostgreSQL and Redis that scripts/test starts, with real
Celery worker processes: a worker killed mid-import, PostgreSQL restarted mid-import and
mid-notification, Redis down while shipping, Redis restarted while a worker imports.

Beat is played by the test: it sends the tick tasks every couple of seconds (every minute and
every 30 s in production), and the workers run with a 6-second import lease (a minute in
production) so each test takes seconds."""
import json
import subprocess
import sys
import threading
import time

import pytest
from django.db import connections

from orders.importing import ABANDONED_RUN_ERROR, store_refresh
from orders.models import ImportRun, NotificationStatus, Order, Shipment
from orders.notifying import LOST_TRACK_ERROR
from orders.shipping import shipment_create
from stores.models import Store
from tests.fixtures.celery import ROOT, shared_database_url
from tests.utils import expected_orders, import_orders, sandbox_store, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

LEASE = {"SHIPBRIDGE_IMPORT_LEASE_SECONDS": "6", "SHIPBRIDGE_CLAIM_SECONDS": "6",
         "SHIPBRIDGE_SWEEP_GRACE_SECONDS": "1"}


def slow_feed(sandbox, seconds: float) -> threading.Event:
    """Each export page takes `seconds` while the returned event is set."""
    slow = threading.Event()
    slow.set()
    sandbox.state.on_export = lambda state, page: time.sleep(seconds) if slow.is_set() else None
    return slow


def fresh(query):
    """Run a query on a new connection (this process's may have died with a PostgreSQL restart)."""
    try:
        return query()
    except Exception:  # noqa: BLE001 - the restart dropped it: reconnect once
        connections.close_all()
        return query()


def tick(workers, task="orders.tasks.refresh_due_stores"):
    workers.client.send_task(task)


def running_import(store, pages=2):
    return ImportRun.objects.filter(store=store, status="running", pages__gte=pages).exists()


def slow_import_running(workers, sandboxes, *, orders: int, name: str, seconds: float = 0.4):
    """A store whose feed is slow (`seconds` a page), a worker started, beat's tick sent, and its
    import running past its second page. Returns (sandbox, store, worker, the slowness switch)."""
    sandbox = sandboxes("custom_store", orders=orders, page_size=10)
    slow = slow_feed(sandbox, seconds)
    store = sandbox_store(sandbox, name=name)
    worker = workers.start(**LEASE)
    tick(workers)
    assert wait_for(lambda: running_import(store), timeout=60)
    return sandbox, store, worker, slow


def imported_exactly(store, sandbox) -> None:
    ids = list(Order.objects.filter(store=store).values_list("external_id", flat=True))
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(expected_orders(sandbox.state, store.status_map()))


def test_a_worker_killed_mid_import_frees_its_store_and_it_imports_again_within_a_minute(workers, sandboxes):
    # Given a slow store being imported by a worker
    sandbox = sandboxes("custom_store", orders=200, page_size=10)
    slow = slow_feed(sandbox, 0.5)
    store = sandbox_store(sandbox, name="Killed shop")
    first = workers.start("a", **LEASE)
    tick(workers)
    assert wait_for(lambda: running_import(store), timeout=60)
    # When the worker is killed (-9, pool processes included) in the middle of the import
    first.kill9()
    killed = time.monotonic()
    slow.clear()
    workers.start("b", **LEASE)
    # Then the next beat ticks close the abandoned run and import the store again, within 60 s
    done = lambda: (tick(workers), ImportRun.objects.filter(store=store, status="succeeded").exists())[1]  # noqa: E731
    assert wait_for(done, timeout=60, interval=2), list(ImportRun.objects.values("status", "error"))
    assert time.monotonic() - killed < 60
    abandoned = ImportRun.objects.get(store=store, status="failed")
    assert abandoned.error == ABANDONED_RUN_ERROR and abandoned.finished_at is not None
    assert not ImportRun.objects.filter(store=store, status="running").exists()
    # and every order is there exactly once
    imported_exactly(store, sandbox)
    store.refresh_from_db()
    assert store.last_refresh_status == "succeeded" and store.lease_token == ""


def test_postgresql_restarted_mid_import_the_store_imports_again_at_the_next_tick(workers, sandboxes, services):
    sandbox, store, worker, slow = slow_import_running(workers, sandboxes, orders=200, name="Blip shop")
    # When PostgreSQL restarts under the running import
    services.restart_postgres()
    slow.clear()
    # Then the run ends (or carries on) and the store is imported again at the next ticks
    done = lambda: fresh(lambda: (tick(workers), ImportRun.objects.filter(  # noqa: E731
        store=store, status="succeeded").exists())[1])
    assert wait_for(done, timeout=60, interval=2), list(ImportRun.objects.values("status", "error"))
    assert not ImportRun.objects.filter(store=store, status="running").exists()
    for run in ImportRun.objects.filter(store=store, status="failed"):
        assert "database" in run.error or run.error == ABANDONED_RUN_ERROR, run.error
    imported_exactly(store, sandbox)
    assert worker.alive()


def test_postgresql_restarted_while_the_store_answers_a_notification_it_is_recorded_as_sent(
        workers, sandboxes, services):
    # Given a shipment whose notification the store takes while PostgreSQL restarts
    sandbox = sandboxes("custom_store", orders=0)
    store, (order,) = import_orders(sandbox, 1)
    shipment = shipment_create(order=order, carrier="UPS", tracking_number="1Z999", queue_notification=False)
    notification = shipment.notification
    restarted = threading.Event()

    def restart_meanwhile(state):
        if not restarted.is_set():
            services.restart_postgres()
            restarted.set()

    sandbox.state.on_shipnotify = restart_meanwhile
    workers.start(**LEASE)
    # When the worker delivers it
    workers.client.send_task("orders.tasks.notify_store", (notification.pk,), {"attempt": 0})
    assert wait_for(restarted.is_set, timeout=60)
    # Then the store's acceptance is recorded (on a new connection), not turned into "lost track"
    sent = lambda: fresh(lambda: type(notification).objects.get(pk=notification.pk).status) == "sent"  # noqa: E731
    assert wait_for(sent, timeout=30), type(notification).objects.values("status", "error").get(pk=notification.pk)
    notification.refresh_from_db()
    assert notification.error != LOST_TRACK_ERROR and notification.attempts == 1
    assert len(sandbox.state.notices) == 1


def test_with_redis_down_ship_order_saves_and_everything_is_delivered_once_it_is_back(
        workers, sandboxes, services, tmp_path):
    # Given an imported order whose store e-mails the customer, and Redis down
    sandbox = sandboxes("custom_store", orders=0)
    store, (order,) = import_orders(sandbox, 1, notify_customer=True)
    Order.objects.filter(pk=order.pk).update(customer_email="ada@example.test")
    services.stop_redis()
    mail_dir = tmp_path / "mail"
    env = {**workers.env(**LEASE), "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
           "EMAIL_FILE_PATH": str(mail_dir), "DATABASE_URL": shared_database_url()}
    # When the order is shipped from the command line
    started = time.monotonic()
    result = subprocess.run([sys.executable, "manage.py", "ship_order", str(store.pk), order.order_number,
                             "--carrier", "UPS", "--tracking", "1Z999AA1"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    # Then it exits 0 with the shipment saved, its notification and e-mail pending
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 60
    assert "Traceback" not in result.stderr
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert line["notification"] == {"status": "pending", "error": None}
    shipment = Shipment.objects.get(pk=line["shipment"])
    assert shipment.customer_email_status == "pending"
    assert sandbox.state.notices == []
    # When Redis is back and the sweep runs (beat)
    services.start_redis()
    workers.start(EMAIL_BACKEND=env["EMAIL_BACKEND"], EMAIL_FILE_PATH=str(mail_dir), **LEASE)

    def delivered():
        tick(workers, "orders.tasks.requeue_stale_notifications")
        shipment.refresh_from_db()
        shipment.notification.refresh_from_db()
        return shipment.notification.status == "sent" and shipment.customer_email_status == "sent"

    # Then the store is notified once and the customer e-mailed once
    assert wait_for(delivered, timeout=60, interval=2), (shipment.notification.status,
                                                         shipment.customer_email_status)
    assert len(sandbox.state.notices) == 1
    messages = list(mail_dir.iterdir())
    assert len(messages) == 1 and order.order_number in messages[0].read_text()
    time.sleep(3)  # further sweeps find nothing to do
    tick(workers, "orders.tasks.requeue_stale_notifications")
    time.sleep(2)
    assert len(sandbox.state.notices) == 1 and len(list(mail_dir.iterdir())) == 1


def test_a_worker_importing_survives_a_redis_restart(workers, sandboxes, services):
    sandbox, store, worker, slow = slow_import_running(workers, sandboxes, orders=150, name="Broker shop")
    # When Redis restarts while the worker imports (its queued messages are lost with it)
    services.stop_redis()
    time.sleep(1)
    services.start_redis()
    slow.clear()
    # Then the import finishes, the worker lives on and takes new tasks
    assert wait_for(lambda: ImportRun.objects.filter(store=store, status="succeeded").exists(), timeout=60)
    Store.objects.filter(pk=store.pk).update(next_refresh_at=None)
    done = lambda: (tick(workers), ImportRun.objects.filter(store=store, status="succeeded").count() >= 2)[1]  # noqa: E731
    assert wait_for(done, timeout=60, interval=2), worker.log()[-3000:]
    assert worker.alive()
    assert "Unrecoverable error" not in worker.log()
    imported_exactly(store, sandbox)


def test_the_heartbeat_keeps_a_lease_shorter_than_a_page_from_being_taken(sandboxes, settings):
    # A 1-second lease, pages that take 1.5 s each: only the heartbeat keeps the store held while
    # a page downloads, so a second run trying to take the store meanwhile is turned away.
    from django.db import connections as thread_connections

    from orders.importing import StoreBusy, _lease_acquire

    settings.SHIPBRIDGE_IMPORT_LEASE_SECONDS = 1
    sandbox = sandboxes("custom_store", orders=30, page_size=10)
    store = sandbox_store(sandbox, name="Long import")
    attempts = []

    def slow_page_and_a_rival(state, page):
        time.sleep(1.5)
        if page == 2:
            try:
                _lease_acquire(store.pk)
                attempts.append("taken")
            except StoreBusy:
                attempts.append("busy")
            finally:
                thread_connections.close_all()  # this sandbox thread's own connection

    sandbox.state.on_export = slow_page_and_a_rival
    run = store_refresh(store_id=store.pk)
    assert attempts == ["busy"]
    assert run.status == "succeeded", run.error
    imported_exactly(store, sandbox)
    assert run.pages == 3
